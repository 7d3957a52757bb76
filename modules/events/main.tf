# Balance events: every committed change of a summary, published to an EventBridge bus. The summary
# table's stream (NEW_AND_OLD_IMAGES) feeds an EventBridge Pipe that keeps the money writes only (a new
# image holding a revision), hands each batch to the enrichment function (the event detail: amounts with
# their currency's minor unit, the id accountId:currency:revision, the correction mark), and puts one event
# per change on the bus. What fails after the retries is parked in the Pipe's dead-letter queue. The root
# creates the enrichment function with the function module, from this module's function output.
#
# Day closes: a second Pipe reads the history table's stream (NEW_IMAGE), keeps the inserts of day closes
# only, and publishes one Day Closed event per (account, currency, day) on the same bus, through the same
# enrichment function (it tells the two sources apart by the record's eventSourceARN), with the same DLQ.

locals {
  name     = var.name
  dlq_name = "${local.name}-dlq"
  environment = {
    DEPLOYMENT_NAME              = var.name_prefix
    HISTORY_TABLE_ARN            = var.history.arn # a record from its stream is a day close
    POWERTOOLS_SERVICE_NAME      = local.name
    POWERTOOLS_METRICS_NAMESPACE = var.name_prefix
  }
  # The event's source and detail-type, fixed and documented (docs/events.md); the enrichment's core
  # (ledger_aggregator.balance_events) owns the same two names, and a test holds them equal.
  source      = "cqrs-ledger"
  detail_type = "Balance Changed"
  bus_name    = coalesce(var.events.bus_name, "${var.name_prefix}-ledger-events")
  bus_arn     = var.events.bus_name == null ? aws_cloudwatch_event_bus.this[0].arn : data.aws_cloudwatch_event_bus.given[0].arn
  # A bus this module creates gets a dead-letter queue: with a customer managed key, EventBridge sends it
  # the events it cannot encrypt or decrypt (the key disabled or its policy changed), which it would
  # otherwise drop (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-event-bus-dlq.html).
  # Not only with a key: whether a key is given may be unknown until apply (a key created beside the
  # module), and a count must be known at plan; an empty queue costs nothing. A bus given by name is its
  # owner's to configure.
  bus_dlq      = var.events.bus_name == null
  bus_dlq_name = "${local.name}-bus-dlq"
  # The created bus's ARN from its name: the queue's policy names it, and the bus names the queue.
  created_bus_arn = "arn:${data.aws_partition.current.partition}:events:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:event-bus/${local.bus_name}"
  # Only writes that raised a revision: inserts and modifications whose new image holds one.
  filter = {
    eventName = ["INSERT", "MODIFY"]
    dynamodb  = { NewImage = { revision = { N = [{ exists = true }] } } }
  }
  # Day closes: the enrichment's core (ledger_aggregator.day_close_events) owns the same detail-type, and a
  # test holds them equal.
  day_close = {
    name        = "${local.name}-day-closes"
    detail_type = "Day Closed"
    # The inserts of day closes only. A close's sort key is "EUR#2026-11-05" for a day, "EUR#2026-11" for a
    # month and "EUR#" for a key's first-row item. A Pipe's filter takes no wildcard
    # (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html: a wildcard
    # has no Pipe support; a suffix has), so a day is told by its suffix: "-13" to "-31" end only days (a
    # month ends in "-01" to "-12"), and for the days 01 to 12, "-MM-DD" (a month's sixth character from
    # the end is a digit of its year, never a dash). 163 suffixes, about 3,200 characters of the 4,096 a
    # pattern may have (tests/terraform/events.tftest.hcl).
    filter = {
      eventName = ["INSERT"]
      dynamodb = {
        Keys = {
          period = {
            S = concat(
              [for day in range(13, 32) : { suffix = format("-%02d", day) }],
              flatten([for month in range(1, 13) : [for day in range(1, 13) : { suffix = format("-%02d-%02d", month, day) }]]),
            )
          }
        }
      }
    }
  }
}

resource "aws_cloudwatch_event_bus" "this" {
  count              = var.events.bus_name == null ? 1 : 0
  name               = local.bus_name
  kms_key_identifier = var.kms_key_arn
  dynamic "dead_letter_config" {
    for_each = local.bus_dlq ? [aws_sqs_queue.bus_dlq[0].arn] : []
    content {
      arn = dead_letter_config.value
    }
  }
  tags = var.tags
}

# Only EventBridge may send to it, and only for this bus; no IAM principal may (nothing is replayed into it).
module "bus_dlq_policy" {
  source         = "../queue_policy"
  count          = local.bus_dlq ? 1 : 0
  queue_name     = local.bus_dlq_name
  service_sender = { service = "events.amazonaws.com", source_arn = local.created_bus_arn }
}

resource "aws_sqs_queue" "bus_dlq" {
  count                     = local.bus_dlq ? 1 : 0
  name                      = local.bus_dlq_name
  policy                    = module.bus_dlq_policy[0].json
  message_retention_seconds = 1209600
  kms_master_key_id         = var.kms_key_arn # the key's policy must let EventBridge use it (docs/events.md)
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  tags                      = var.tags
}

data "aws_cloudwatch_event_bus" "given" {
  count = var.events.bus_name == null ? 0 : 1
  name  = var.events.bus_name
}

module "dlq_policy" {
  source     = "../queue_policy"
  queue_name = local.dlq_name
  senders    = concat([aws_iam_role.pipe.arn], var.operator_arns)
}

resource "aws_sqs_queue" "dlq" {
  name                      = local.dlq_name
  policy                    = module.dlq_policy.json
  message_retention_seconds = 1209600
  kms_master_key_id         = var.kms_key_arn
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  tags                      = var.tags
}

resource "aws_pipes_pipe" "this" {
  name        = local.name
  description = "Committed summary changes -> balance events."
  role_arn    = aws_iam_role.pipe.arn
  source      = var.summary.stream_arn
  enrichment  = var.function_arn
  target      = local.bus_arn
  source_parameters {
    dynamodb_stream_parameters {
      starting_position             = "TRIM_HORIZON"
      batch_size                    = var.events.batch_size
      maximum_retry_attempts        = var.events.retry_attempts
      maximum_record_age_in_seconds = -1
      on_partial_batch_item_failure = "AUTOMATIC_BISECT"
      parallelization_factor        = 1 # one batch per shard at a time: events leave in revision order
      dead_letter_config {
        arn = aws_sqs_queue.dlq.arn
      }
    }
    filter_criteria {
      filter {
        pattern = jsonencode(local.filter)
      }
    }
  }
  target_parameters {
    eventbridge_event_bus_parameters {
      source      = local.source
      detail_type = local.detail_type
    }
  }
  tags = var.tags
  # A Pipe whose role cannot read its source when it is created fails (CREATE_FAILED), and the apply with it:
  # the role's policy first.
  depends_on = [aws_iam_role_policy.pipe]
}

# Day closes: the history table's stream -> one Day Closed event per (account, currency, day). The same
# source settings as the balance events' Pipe, the same enrichment function, bus and dead-letter queue.
resource "aws_pipes_pipe" "day_closes" {
  name        = local.day_close.name
  description = "Day closes written to the history table -> day-close events."
  role_arn    = aws_iam_role.pipe.arn
  source      = var.history.stream_arn
  enrichment  = var.function_arn
  target      = local.bus_arn
  source_parameters {
    dynamodb_stream_parameters {
      starting_position             = "TRIM_HORIZON"
      batch_size                    = var.events.batch_size
      maximum_retry_attempts        = var.events.retry_attempts
      maximum_record_age_in_seconds = -1
      on_partial_batch_item_failure = "AUTOMATIC_BISECT"
      parallelization_factor        = 1
      dead_letter_config {
        arn = aws_sqs_queue.dlq.arn
      }
    }
    filter_criteria {
      filter {
        pattern = jsonencode(local.day_close.filter)
      }
    }
  }
  target_parameters {
    eventbridge_event_bus_parameters {
      source      = local.source
      detail_type = local.day_close.detail_type
    }
  }
  tags       = var.tags
  depends_on = [aws_iam_role_policy.pipe] # as the balance events' Pipe: its role may read the stream first
}
