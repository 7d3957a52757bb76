# The function's own permissions (the function module adds logs and X-Ray): read the index of open holds,
# and release a hold, which writes its release row, the hold's item and its balance item in one
# TransactWriteItems (DynamoDB authorizes each item as its own action, with the enclosing operation named:
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html); park a
# failed run.
data "aws_iam_policy_document" "function" {
  statement {
    sid       = "ReadOpenHolds"
    actions   = ["dynamodb:Query"]
    resources = ["${var.tables.holds.arn}/index/${var.tables.holds.index_name}"]
  }
  statement {
    sid       = "ReleaseHoldsInsideTransactions"
    actions   = ["dynamodb:UpdateItem"]
    resources = [var.tables.details.arn, var.tables.holds.arn, var.tables.balances.arn]
    condition {
      test     = "StringEquals"
      variable = "dynamodb:EnclosingOperation"
      values   = ["TransactWriteItems"]
    }
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
