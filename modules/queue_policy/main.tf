# Who may put messages into a queue. Identity policies alone let anyone in the account with
# sqs:SendMessage forge a delta (the writer would apply it) or a DLQ entry (an operator's replay would).
# So every request must use TLS, and every IAM principal but the listed senders is refused SendMessage.
# The deny applies to requests made by an IAM principal (aws:PrincipalArn present): SQS's own redrive
# from a source queue to its DLQ is not such a request.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-security-best-practices.html
data "aws_iam_policy_document" "this" {
  statement {
    sid     = "RequireTls"
    effect  = "Deny"
    actions = ["sqs:*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [var.queue.arn]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
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
    resources = [var.queue.arn]
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

resource "aws_sqs_queue_policy" "this" {
  queue_url = var.queue.url
  policy    = data.aws_iam_policy_document.this.json
}
