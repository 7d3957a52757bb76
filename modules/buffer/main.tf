# Pattern 2's buffer: the queue the stream function sends deltas to, its DLQ, the writer's mapping and
# what the writer needs from them (its environment and permissions: the function output; the root creates
# the writer with the function module). The writer applies the deltas to the summary table at a capped
# concurrency, deferring what it could not apply with a jittered backoff. Pattern 1 keeps the buffer,
# draining, until buffer.retired; its removal guard then refuses while a delta could be lost.

locals {
  name = var.names.function
  environment = {
    SUMMARY_TABLE                = var.tables.summary.name
    APPLIED_TABLE                = var.tables.applied.name
    BUFFER_QUEUE_URL             = aws_sqs_queue.buffer.url
    DLQ_URL                      = var.poison_dlq.url
    BACKOFF_MAX_SECONDS          = tostring(var.buffer.backoff_max_seconds)
    POWERTOOLS_SERVICE_NAME      = local.name
    POWERTOOLS_METRICS_NAMESPACE = var.name_prefix
  }
}

module "policy" {
  source     = "../queue_policy"
  for_each   = { buffer = var.names.queue, dlq = var.names.dlq }
  queue_name = each.value
  senders    = each.key == "buffer" ? var.senders.queue : var.senders.dlq
}

resource "aws_sqs_queue" "dlq" {
  name                      = var.names.dlq
  policy                    = module.policy["dlq"].json
  message_retention_seconds = 1209600
  kms_master_key_id         = var.kms_key_arn
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  tags                      = var.tags
}

resource "aws_sqs_queue" "buffer" {
  name                       = var.names.queue
  policy                     = module.policy["buffer"].json
  visibility_timeout_seconds = var.buffer.visibility_timeout_seconds
  message_retention_seconds  = var.buffer.message_retention_seconds
  kms_master_key_id          = var.kms_key_arn
  sqs_managed_sse_enabled    = var.kms_key_arn == null ? true : null
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.buffer.max_receive_count
  })
  tags = var.tags
}

resource "aws_lambda_event_source_mapping" "queue" {
  event_source_arn                   = aws_sqs_queue.buffer.arn
  function_name                      = var.function.arn
  batch_size                         = var.buffer.batch_size
  maximum_batching_window_in_seconds = var.buffer.batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.buffer.maximum_concurrency
  }
}

# Before Terraform deletes the buffer (buffer.retired, or a destroy), it invokes the writer with this
# event and the delete action (lifecycle_scope CRUD); the writer raises, and so fails the apply with its
# reason, while either queue holds a message or the stream function may still publish
# (ledger_aggregator.retirement). Created or updated, the invocation only arms the guard. It is destroyed
# before the mapping, the writer and the queues, which it depends on; the queue output depends on it, so
# that the stream function stops publishing before it runs.
resource "aws_lambda_invocation" "removal_guard" {
  function_name   = var.function.name
  lifecycle_scope = "CRUD"
  input = jsonencode({
    ledgerGuard    = "buffer-removal"
    check          = var.buffer.removal_guard
    queueUrls      = [aws_sqs_queue.buffer.url, aws_sqs_queue.dlq.url]
    streamFunction = var.stream_function.name
  })
  depends_on = [aws_lambda_event_source_mapping.queue]
}
