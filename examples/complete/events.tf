# A team downstream subscribes to the ledger's balance events (docs/events.md): a standard queue, since
# the bus keeps no order to a target and the consumer needs none (it deduplicates on detail.eventId and
# keeps, per key, the highest revision). The rule's target bounds how late an event can be (its retry
# policy: the consumer's late bound) and keeps what it gives up in a dead-letter queue, where a missing
# revision can be found.

resource "aws_sqs_queue" "balance_changes_failed" {
  name                      = "ledger-prod-balance-changes-failed"
  kms_master_key_id         = aws_kms_key.ledger.arn
  message_retention_seconds = 1209600
}

resource "aws_sqs_queue" "balance_changes" {
  name                      = "ledger-prod-balance-changes"
  kms_master_key_id         = aws_kms_key.ledger.arn
  message_retention_seconds = 1209600
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.balance_changes_failed.arn
    maxReceiveCount     = 5 # with the visibility timeout, part of the consumer's late bound
  })
}

resource "aws_cloudwatch_event_rule" "balance_changes" {
  name           = "ledger-prod-balance-changes"
  description    = "Every committed change of a balance, to the downstream queue."
  event_bus_name = module.ledger.events.bus.name
  event_pattern = jsonencode({
    source        = [module.ledger.events.event.source]
    "detail-type" = [module.ledger.events.event.detail_type]
  })
}

resource "aws_cloudwatch_event_target" "balance_changes" {
  rule           = aws_cloudwatch_event_rule.balance_changes.name
  event_bus_name = module.ledger.events.bus.name
  arn            = aws_sqs_queue.balance_changes.arn
  retry_policy {
    maximum_event_age_in_seconds = 3600 # an event reaches the queue within an hour, or goes to the DLQ
    maximum_retry_attempts       = 185
  }
  dead_letter_config {
    arn = aws_sqs_queue.balance_changes_failed.arn
  }
}

# Only this rule may send to the queue and, for what it gives up, to the dead-letter queue
# (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
data "aws_iam_policy_document" "balance_changes" {
  for_each = {
    queue  = aws_sqs_queue.balance_changes.arn
    failed = aws_sqs_queue.balance_changes_failed.arn
  }
  statement {
    sid       = "FromTheRule"
    actions   = ["sqs:SendMessage"]
    resources = [each.value]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.balance_changes.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "balance_changes" {
  queue_url = aws_sqs_queue.balance_changes.id
  policy    = data.aws_iam_policy_document.balance_changes["queue"].json
}

resource "aws_sqs_queue_policy" "balance_changes_failed" {
  queue_url = aws_sqs_queue.balance_changes_failed.id
  policy    = data.aws_iam_policy_document.balance_changes["failed"].json
}
