# Who may put messages into a queue: the policy document, set inline on the queue (aws_sqs_queue.policy),
# so that it is written with the queue and needs no wait of its own. Identity policies alone let anyone in the account with
# sqs:SendMessage forge a delta (the writer would apply it) or a DLQ entry (an operator's replay would).
# So every request must use TLS, and every IAM principal but the listed senders is refused SendMessage.
# The deny applies to requests made by an IAM principal (aws:PrincipalArn present): SQS's own redrive
# from a source queue to its DLQ is not such a request, nor is a send by an AWS service, which only the
# optional service sender may make, on behalf of its one source ARN.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-security-best-practices.html
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # The queue's own ARN, from its name: the policy is part of the queue, so it cannot read the ARN back.
  queue_arn = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:${var.queue_name}"
}

data "aws_iam_policy_document" "this" {
  statement {
    sid     = "RequireTls"
    effect  = "Deny"
    actions = ["sqs:*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [local.queue_arn]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
  dynamic "statement" {
    for_each = var.service_sender == null ? [] : [var.service_sender]
    content {
      sid       = "ServiceSender"
      actions   = ["sqs:SendMessage"]
      resources = [local.queue_arn]
      principals {
        type        = "Service"
        identifiers = [statement.value.service]
      }
      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = [statement.value.source_arn]
      }
    }
  }
  statement {
    sid     = "OnlyListedSenders"
    effect  = "Deny"
    actions = ["sqs:SendMessage"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [local.queue_arn]
    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = length(var.senders) > 0 ? var.senders : ["arn:aws:iam::000000000000:role/no-sender"]
    }
    condition {
      test     = "Null"
      variable = "aws:PrincipalArn"
      values   = ["false"]
    }
  }
}
