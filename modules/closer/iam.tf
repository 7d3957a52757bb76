# The function's own permissions (the function module adds logs and X-Ray): read the rows by booking time,
# scan the summaries' keys, read and create the closes, and park a failed run.
data "aws_iam_policy_document" "function" {
  # Parking a failed run in the dead-letter queue, with the key: the schedule module's, as its role's.
  source_policy_documents = [module.schedule.park_policy_json]
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
}
