# The stream function: reads the details table's stream (bisecting a failing batch, reporting partial
# failures), writes the summaries itself (pattern 1) or sends deltas to the buffer queue (pattern 2),
# and parks what it cannot process in the stream DLQ.

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
  senders    = concat([module.function.role_arn], var.dlq_senders, var.operator_arns)
}

resource "aws_sqs_queue" "dlq" {
  name                      = var.names.dlq
  policy                    = module.dlq_policy.json
  message_retention_seconds = 1209600
  kms_master_key_id         = var.kms_key_arn
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  tags                      = var.tags
}

module "function" {
  source      = "../function"
  name        = local.name
  description = "Projects the Account Details stream (pattern ${var.pattern})."
  handler     = "ledger_aggregator.handlers.stream.handler"
  package     = var.package
  functions   = var.functions
  environment = local.environment
  policy_json = data.aws_iam_policy_document.this.json
  kms_key_arn = var.kms_key_arn
  tags        = var.tags
}

resource "aws_lambda_event_source_mapping" "stream" {
  event_source_arn                   = var.tables.details.stream_arn
  function_name                      = module.function.arn
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
