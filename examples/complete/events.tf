# A team downstream subscribes to the ledger's balance events (docs/events.md): a FIFO queue with one
# message group keeps the bus's order per (account, currency); the consumer deduplicates on
# detail.eventId and applies, per key, the next revision only.

locals {
  balance_changes_queue = "ledger-prod-balance-changes.fifo" # named in the key's policy (main.tf)
}

resource "aws_sqs_queue" "balance_changes" {
  name                        = local.balance_changes_queue
  fifo_queue                  = true
  content_based_deduplication = true
  kms_master_key_id           = aws_kms_key.ledger.arn
  message_retention_seconds   = 1209600
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
  sqs_target {
    message_group_id = "balances" # one group: the bus's order is kept
  }
}

# Only this rule may send to the queue.
data "aws_iam_policy_document" "balance_changes" {
  statement {
    sid       = "FromTheRule"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.balance_changes.arn]
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
  policy    = data.aws_iam_policy_document.balance_changes.json
}
