# Pattern 2's buffer: the queue the stream function sends deltas to, its DLQ, and the writer function
# that applies them to the summary table at a capped concurrency, deferring what it could not apply
# with a jittered backoff. Pattern 1 keeps it, draining, until buffer.retired; its removal guard then
# refuses while a delta could be lost.

locals {
  name = var.names.function
  # The writer has its own timeout: it bounds the visibility timeout (the root validates at least
  # 6 x it + the batching window), and with it recovery from a crashed writer.
  functions = merge(var.functions, { timeout_seconds = var.buffer.writer_timeout_seconds })
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

module "function" {
  source      = "../function"
  name        = local.name
  description = "Applies deltas from the buffer queue to the Account Summary table."
  handler     = "ledger_aggregator.handlers.writer.handler"
  package     = var.package
  functions   = local.functions
  environment = {
    SUMMARY_TABLE                = var.tables.summary.name
    APPLIED_TABLE                = var.tables.applied.name
    BUFFER_QUEUE_URL             = aws_sqs_queue.buffer.url
    DLQ_URL                      = var.poison_dlq.url
    BACKOFF_MAX_SECONDS          = tostring(var.buffer.backoff_max_seconds)
    POWERTOOLS_SERVICE_NAME      = local.name
    POWERTOOLS_METRICS_NAMESPACE = var.name_prefix
  }
  policy_json = data.aws_iam_policy_document.this.json
  kms_key_arn = var.kms_key_arn
  tags        = var.tags
}

resource "aws_lambda_event_source_mapping" "queue" {
  event_source_arn                   = aws_sqs_queue.buffer.arn
  function_name                      = module.function.arn
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
  function_name   = module.function.name
  lifecycle_scope = "CRUD"
  input = jsonencode({
    ledgerGuard    = "buffer-removal"
    check          = var.buffer.removal_guard
    queueUrls      = [aws_sqs_queue.buffer.url, aws_sqs_queue.dlq.url]
    streamFunction = var.stream_function.name
  })
  depends_on = [aws_lambda_event_source_mapping.queue]
}
