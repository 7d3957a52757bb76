output "json" {
  description = "The queue policy document, for the queue's policy argument."
  value       = data.aws_iam_policy_document.this.json
}
