output "queue" {
  description = "The buffer queue: url, arn and name."
  value = {
    url  = aws_sqs_queue.buffer.url
    arn  = aws_sqs_queue.buffer.arn
    name = aws_sqs_queue.buffer.name
  }
}

output "dlq" {
  description = "The buffer queue's DLQ: url, arn and name."
  value = {
    url  = aws_sqs_queue.dlq.url
    arn  = aws_sqs_queue.dlq.arn
    name = aws_sqs_queue.dlq.name
  }
}

output "function_name" {
  description = "Name of the writer function."
  value       = module.function.name
}

output "log_group_name" {
  description = "Log group of the writer function."
  value       = module.function.log_group_name
}

output "function_tracing" {
  description = "X-Ray tracing of the function: mode, and the POWERTOOLS_TRACE_DISABLED value."
  value       = module.function.tracing
}

output "redelivery" {
  description = "When a message comes back: the writer's timeout, the visibility timeout that bounds recovery from a crashed writer, the backoff ceiling of a failed message, and the receives before the DLQ."
  value = {
    writer_timeout_seconds     = module.function.timeout_seconds
    visibility_timeout_seconds = aws_sqs_queue.buffer.visibility_timeout_seconds
    backoff_max_seconds        = var.buffer.backoff_max_seconds
    max_receive_count          = jsondecode(aws_sqs_queue.buffer.redrive_policy).maxReceiveCount
  }
}
