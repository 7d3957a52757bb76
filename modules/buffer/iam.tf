data "aws_iam_policy_document" "this" {
  statement {
    sid       = "ConsumeBuffer"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.buffer.arn]
  }
  statement {
    sid       = "DeferFailedMessages"
    actions   = ["sqs:ChangeMessageVisibility"]
    resources = [aws_sqs_queue.buffer.arn]
  }
  statement {
    sid       = "ParkRefusedMessages"
    actions   = ["sqs:SendMessage"]
    resources = [var.poison_dlq.arn]
  }
  statement {
    sid       = "GuardRemovalCountsTheDlq"
    actions   = ["sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.dlq.arn]
  }
  statement {
    sid       = "GuardRemovalReadsTheStreamFunction"
    actions   = ["lambda:GetFunctionConfiguration"]
    resources = [var.stream_function.arn]
  }
  statement {
    sid       = "UpdateSummaries"
    actions   = ["dynamodb:UpdateItem", "dynamodb:BatchGetItem"] # reads lastTransactionAt before it writes
    resources = [var.tables.summary.arn]
  }
  statement {
    sid       = "RecordAppliedMarkers"
    actions   = ["dynamodb:PutItem", "dynamodb:BatchGetItem"]
    resources = [var.tables.applied.arn]
  }
}
