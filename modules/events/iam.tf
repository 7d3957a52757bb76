data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

# The Pipes' role: read the summary and history streams, invoke the enrichment, put events on the bus,
# park failures.
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["pipes.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "pipe" {
  name               = "${local.name}-pipe"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "pipe" {
  statement {
    sid       = "ReadSummaryStream"
    actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
    resources = [var.summary.stream_arn]
  }
  statement {
    sid       = "ListSummaryStreams"
    actions   = ["dynamodb:ListStreams"]
    resources = ["${var.summary.arn}/stream/*"]
  }
  statement {
    sid       = "ReadHistoryStream"
    actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
    resources = [var.history.stream_arn]
  }
  statement {
    sid       = "ListHistoryStreams"
    actions   = ["dynamodb:ListStreams"]
    resources = ["${var.history.arn}/stream/*"]
  }
  statement {
    sid       = "Enrich"
    actions   = ["lambda:InvokeFunction"]
    resources = [var.function_arn]
  }
  statement {
    sid       = "PublishEvents"
    actions   = ["events:PutEvents"]
    resources = [local.bus_arn]
  }
  statement {
    sid       = "ParkFailures"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
  }
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "UseKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "pipe" {
  name   = "pipe"
  role   = aws_iam_role.pipe.id
  policy = data.aws_iam_policy_document.pipe.json
}
