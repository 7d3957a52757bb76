output "function_name" {
  description = "Name of the stream function."
  value       = module.function.name
}

output "function_arn" {
  description = "ARN of the stream function."
  value       = module.function.arn
}

output "role_arn" {
  description = "ARN of the stream function's execution role: it sends to the stream DLQ and, in pattern 2, the buffer queue."
  value       = module.function.role_arn
}

output "log_group_name" {
  description = "Log group of the stream function."
  value       = module.function.log_group_name
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

output "function_tracing" {
  description = "X-Ray tracing of the function: mode, and the POWERTOOLS_TRACE_DISABLED value."
  value       = module.function.tracing
}

output "publishes_to" {
  description = "The buffer queue the stream function sends its deltas to (pattern 2); null in pattern 1, where it writes the summaries itself."
  value       = var.buffer_queue == null ? null : var.buffer_queue.url
}

output "role_name" {
  description = "The function's execution role (the root names it as a sender of the buffer queue)."
  value       = module.function.role_name
}
