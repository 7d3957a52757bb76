output "function" {
  description = "What the stream function needs from this module: its environment variables and its policy (JSON)."
  value = {
    environment = local.environment
    policy_json = data.aws_iam_policy_document.this.json
  }
}

output "dlq" {
  description = "The stream's DLQ (on-failure destination and poison records): url, arn and name."
  value = {
    url  = aws_sqs_queue.dlq.url
    arn  = aws_sqs_queue.dlq.arn
    name = aws_sqs_queue.dlq.name
  }
}

output "event_source_mapping_uuid" {
  description = "UUID of the stream event source mapping."
  value       = aws_lambda_event_source_mapping.stream.uuid
}

output "publishes_to" {
  description = "The buffer queue the stream function sends its deltas to (pattern 2); null in pattern 1, where it writes the summaries itself."
  value       = var.buffer_queue == null ? null : var.buffer_queue.url
}
