data "aws_iam_policy_document" "this" {
  statement {
    sid       = "ReadDetailsStream"
    actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
    resources = [var.tables.details.stream_arn]
  }
  statement {
    sid       = "ListDetailsStreams"
    actions   = ["dynamodb:ListStreams"]
    resources = ["${var.tables.details.arn}/stream/*"]
  }
  statement {
    sid       = "ParkFailures"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
  }

  dynamic "statement" {
    for_each = var.pattern == 1 ? [1] : []
    content {
      sid       = "UpdateSummaries"
      actions   = ["dynamodb:UpdateItem", "dynamodb:BatchGetItem"] # reads lastTransactionAt before it writes
      resources = [var.tables.summary.arn]
    }
  }
  dynamic "statement" {
    for_each = var.pattern == 1 ? [1] : []
    content {
      sid       = "RecordAppliedMarkers"
      actions   = ["dynamodb:PutItem", "dynamodb:BatchGetItem"]
      resources = [var.tables.applied.arn]
    }
  }
  dynamic "statement" {
    for_each = var.pattern == 2 ? [1] : []
    content {
      sid       = "SendDeltas"
      actions   = ["sqs:SendMessage"]
      resources = [var.buffer_queue.arn]
    }
  }
}
