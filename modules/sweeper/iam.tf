# The function's own permissions (the function module adds logs and X-Ray): read the index of open holds,
# and release a hold, which writes its release row, the hold's item and its balance item in one
# TransactWriteItems (DynamoDB authorizes each item as its own action, with the enclosing operation named:
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html); park a
# failed run.
data "aws_iam_policy_document" "function" {
  # Parking a failed run in the dead-letter queue, with the key: the schedule module's, as its role's.
  source_policy_documents = [module.schedule.park_policy_json]
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
}
