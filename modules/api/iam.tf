data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

# The API may create transactions, transfers and holds, list them through the index, and read summaries,
# balances, holds and the day closes.
# Nothing else. A transfer is one TransactWriteItems of two updates: DynamoDB authorizes each item
# of a transaction as its own action (dynamodb:UpdateItem here), and there is no IAM action for
# TransactWriteItems itself (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
data "aws_iam_policy_document" "api" {
  statement {
    sid       = "CreateTransactionsAndTransfers"
    actions   = ["dynamodb:UpdateItem"]
    resources = [var.tables.details.arn]
  }
  # The guard's balance items. A money write counts into them only inside its TransactWriteItems, beside
  # its row: DynamoDB names the enclosing operation of a transaction's item in dynamodb:EnclosingOperation
  # (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html). An overdraft
  # limit is one UpdateItem of its own (PUT .../limits), outside any transaction (the key absent). Both are
  # limited to the balance item's attributes. Granted whether the guard is on or off (the table is always
  # there): IAM is eventually consistent, and a grant that came and went with the guard would, for a moment
  # after each switch, refuse the writes of the deployment the stage had just switched to.
  dynamic "statement" {
    for_each = local.balance_writes
    content {
      sid       = statement.key
      actions   = ["dynamodb:UpdateItem"]
      resources = [var.tables.balances.arn]
      condition {
        test     = statement.value.test
        variable = "dynamodb:EnclosingOperation"
        values   = statement.value.values
      }
      condition {
        test     = "ForAllValues:StringEquals"
        variable = "dynamodb:Attributes"
        values   = local.balance_item_attributes
      }
    }
  }
  # The holds' items (docs/holds.md): written only inside a hold, capture or void's TransactWriteItems, and
  # only their own attributes; read one at a time (GET .../holds/{holdId}). Granted whether holds are on or
  # off, for the reason the balance items are.
  statement {
    sid       = "WriteHoldsInsideTransactions"
    actions   = ["dynamodb:UpdateItem"]
    resources = [var.tables.holds.arn]
    condition {
      test     = "StringEquals"
      variable = "dynamodb:EnclosingOperation"
      values   = ["TransactWriteItems"]
    }
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:Attributes"
      values   = [for a in var.hold_item : a.name]
    }
  }
  statement {
    sid       = "ReadHolds"
    actions   = ["dynamodb:GetItem"]
    resources = [var.tables.holds.arn]
  }
  statement {
    sid       = "ReadBalances"
    actions   = ["dynamodb:Query"]
    resources = [var.tables.balances.arn]
  }
  statement {
    sid       = "ListTransactions"
    actions   = ["dynamodb:Query"]
    resources = ["${var.tables.details.arn}/index/${var.tables.details.index_name}"]
  }
  statement {
    sid       = "ReadSummaries"
    actions   = ["dynamodb:Query"]
    resources = [var.tables.summary.arn]
  }
  statement {
    sid       = "ReadStatements"
    actions   = ["dynamodb:Query"]
    resources = [var.tables.history.arn]
  }
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "UseTableKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role" "api" {
  name               = "${var.name_prefix}-api"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "api" {
  name   = "dynamodb"
  role   = aws_iam_role.api.id
  policy = data.aws_iam_policy_document.api.json
}

resource "aws_iam_role" "logging" {
  count              = var.api.create_logging_role ? 1 : 0
  name               = "${var.name_prefix}-apigateway-logs"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "logging" {
  count      = var.api.create_logging_role ? 1 : 0
  role       = aws_iam_role.logging[0].name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}
