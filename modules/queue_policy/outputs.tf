output "policy_json" {
  description = "The queue policy as applied."
  value       = aws_sqs_queue_policy.this.policy
}
