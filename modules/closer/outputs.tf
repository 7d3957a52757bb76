output "dlq" {
  description = "The closer's dead-letter queue (failed runs, undelivered invocations): name, url and arn."
  value       = { name = aws_sqs_queue.dlq.name, url = aws_sqs_queue.dlq.url, arn = aws_sqs_queue.dlq.arn }
}

output "schedule" {
  description = "The schedule that runs the closer: name and expression."
  value       = { name = aws_scheduler_schedule.this.name, expression = aws_scheduler_schedule.this.schedule_expression }
}

output "function" {
  description = "What the closer function needs from this module: its environment variables and its policy (JSON)."
  value = {
    environment = local.environment
    policy_json = data.aws_iam_policy_document.function.json
  }
}
