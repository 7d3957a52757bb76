output "dlq" {
  description = "The dead-letter queue (failed runs, undelivered invocations): name, url and arn."
  value       = { name = aws_sqs_queue.dlq.name, url = aws_sqs_queue.dlq.url, arn = aws_sqs_queue.dlq.arn }
}

output "schedule" {
  description = "The schedule that runs the function: name and expression."
  value       = { name = aws_scheduler_schedule.this.name, expression = aws_scheduler_schedule.this.schedule_expression }
}

output "park_policy_json" {
  description = "The policy (JSON) that lets the function park a failed run in the dead-letter queue, with the key: for the function's own policy."
  value       = data.aws_iam_policy_document.park.json
}
