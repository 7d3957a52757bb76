output "function" {
  description = "What the writer needs from this module: its environment variables and its policy (JSON)."
  value = {
    environment = local.environment
    policy_json = data.aws_iam_policy_document.this.json
  }
}

output "queue" {
  description = "The buffer queue: url, arn and name. It depends on the removal guard, so that whatever sends to the queue is changed before the guard is asked to let it go."
  value = {
    url  = aws_sqs_queue.buffer.url
    arn  = aws_sqs_queue.buffer.arn
    name = aws_sqs_queue.buffer.name
  }
  depends_on = [aws_lambda_invocation.removal_guard]
}

output "dlq" {
  description = "The buffer queue's DLQ: url, arn and name."
  value = {
    url  = aws_sqs_queue.dlq.url
    arn  = aws_sqs_queue.dlq.arn
    name = aws_sqs_queue.dlq.name
  }
}

output "redelivery" {
  description = "When a message comes back: the writer's timeout, the visibility timeout that bounds recovery from a crashed writer, the backoff ceiling of a failed message, and the receives before the DLQ."
  value = {
    writer_timeout_seconds     = var.function.timeout_seconds
    visibility_timeout_seconds = aws_sqs_queue.buffer.visibility_timeout_seconds
    backoff_max_seconds        = var.buffer.backoff_max_seconds
    max_receive_count          = jsondecode(aws_sqs_queue.buffer.redrive_policy).maxReceiveCount
  }
}

output "removal_guard" {
  description = "The invocation that guards the buffer's removal: its lifecycle scope and the event the writer gets (the queues it counts, the stream function it reads, whether it checks)."
  value = {
    lifecycle_scope = aws_lambda_invocation.removal_guard.lifecycle_scope
    input           = jsondecode(aws_lambda_invocation.removal_guard.input)
  }
}

output "parks_in" {
  description = "The DLQ the writer parks what it refuses in (the stream DLQ's URL)."
  value       = var.poison_dlq.url
}
