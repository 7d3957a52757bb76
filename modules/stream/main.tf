# The stream function's mapping and DLQ, and what the function needs from them: its environment and its
# permissions (the function output; the root creates the function with the function module). The function
# reads the details table's stream (bisecting a failing batch, reporting partial failures), writes the
# summaries itself (pattern 1) or sends deltas to the buffer queue (pattern 2), and parks what it cannot
# process in the stream DLQ.

locals {
  name = var.names.function
  environment = merge(
    {
      PATTERN                      = tostring(var.pattern)
      DLQ_URL                      = aws_sqs_queue.dlq.url
      POWERTOOLS_SERVICE_NAME      = local.name
      POWERTOOLS_METRICS_NAMESPACE = var.name_prefix
    },
    var.pattern == 1 ? {
      SUMMARY_TABLE = var.tables.summary.name
      APPLIED_TABLE = var.tables.applied.name
    } : {},
    var.pattern == 2 ? { BUFFER_QUEUE_URL = var.buffer_queue.url } : {},
  )
}

# On-failure destination of the stream mapping, and the parking place of poison records: the stream
# function's, and the writer's (it outlives every pattern switch, so nothing parked is lost with a queue).
module "dlq_policy" {
  source     = "../queue_policy"
  queue_name = var.names.dlq
  senders    = concat(var.dlq_senders, var.operator_arns)
}

resource "aws_sqs_queue" "dlq" {
  name                      = var.names.dlq
  policy                    = module.dlq_policy.json
  message_retention_seconds = 1209600
  kms_master_key_id         = var.kms_key_arn
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  tags                      = var.tags
}

resource "aws_lambda_event_source_mapping" "stream" {
  event_source_arn                   = var.tables.details.stream_arn
  function_name                      = var.function_arn
  starting_position                  = var.stream.starting_position
  batch_size                         = var.stream.batch_size
  maximum_batching_window_in_seconds = var.stream.batching_window_seconds
  maximum_retry_attempts             = var.stream.retry_attempts
  maximum_record_age_in_seconds      = var.stream.maximum_record_age_seconds
  parallelization_factor             = var.stream.parallelization_factor
  bisect_batch_on_function_error     = true
  function_response_types            = ["ReportBatchItemFailures"]

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.dlq.arn
    }
  }
}
