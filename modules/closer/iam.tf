# The function's own permissions (the function module adds logs and X-Ray): read the rows by booking time,
# scan the summaries' keys, read and create the closes, and park a failed run.
data "aws_iam_policy_document" "function" {
  statement {
    sid       = "ReadRowsByBookingTime"
    actions   = ["dynamodb:Query"]
    resources = ["${var.tables.details.arn}/index/${var.tables.details.index_name}"]
  }
  statement {
    sid       = "ScanSummaryKeys"
    actions   = ["dynamodb:DescribeTable", "dynamodb:Scan"]
    resources = [var.tables.summary.arn]
  }
  statement {
    sid       = "WriteCloses"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
    resources = [var.tables.history.arn]
  }
  statement {
    sid       = "ParkFailedRuns"
    actions   = ["sqs:SendMessage"]
    resources = [module.schedule.dlq.arn]
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
