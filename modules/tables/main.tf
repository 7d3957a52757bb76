# The tables: Account Details (the transactions, with a stream), Account Summary (one item per account
# and currency), the applied markers (exactly-once), the guard's balance items, the holds and the day closes. They do not depend on the pattern, so
# switching patterns never replaces or empties them.

locals {
  # The details table's newest-first index: its one owner (the output hands it to the API's template and
  # the functions' policies).
  details_index = "byRecordedAt"
  sse = {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
}

# Transactions: one item per (accountId, transactionId). The stream feeds the aggregator.
resource "aws_dynamodb_table" "details" {
  #checkov:skip=CKV_AWS_28:Point-in-time recovery is on unless tables.point_in_time_recovery turns it off; checkov cannot read the variable.
  name                        = "${var.name_prefix}-account-details"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "accountId"
  range_key                   = "transactionId"
  stream_enabled              = true
  stream_view_type            = "NEW_AND_OLD_IMAGES"
  deletion_protection_enabled = var.tables.details_deletion_protection

  attribute {
    name = "accountId"
    type = "S"
  }
  attribute {
    name = "transactionId"
    type = "S"
  }
  attribute {
    name = "recordedAt"
    type = "N"
  }

  # Newest-first listing per account. A GSI rather than an LSI: an LSI would cap every
  # account's item collection at 10 GB, which a busy ledger account can outgrow.
  global_secondary_index {
    name            = local.details_index
    hash_key        = "accountId"
    range_key       = "recordedAt"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = var.tables.point_in_time_recovery
  }
  server_side_encryption {
    enabled     = local.sse.enabled
    kms_key_arn = local.sse.kms_key_arn
  }
  tags = var.tags
}

# One summary per (account, currency), written only by the aggregator.
resource "aws_dynamodb_table" "summary" {
  #checkov:skip=CKV_AWS_28:Point-in-time recovery is on unless tables.point_in_time_recovery turns it off; checkov cannot read the variable.
  #checkov:skip=CKV2_AWS_16:Fixed provisioned capacity is the point: it reproduces a summary table that cannot scale. Use PAY_PER_REQUEST or attach autoscaling in production.
  name           = "${var.name_prefix}-account-summary"
  billing_mode   = var.tables.summary_billing_mode
  read_capacity  = var.tables.summary_billing_mode == "PROVISIONED" ? var.tables.summary_read_capacity : null
  write_capacity = var.tables.summary_billing_mode == "PROVISIONED" ? var.tables.summary_write_capacity : null
  hash_key       = "accountId"
  range_key      = "currency"

  deletion_protection_enabled = var.tables.summary_deletion_protection
  # Each committed change of a summary, before and after: what the balance events' Pipe reads
  # (modules/events). On whatever the root's events says: a stream costs nothing without a reader, and
  # one never disabled means no Pipe is left on a disabled source (AWS cannot stop, start or update such a
  # pipe; a re-enabled stream is a new one, with a new ARN:
  # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-dynamodb.html), and a Pipe created
  # when events come back on reads the same stream from its trim horizon: the last 24 hours of changes,
  # those made while events were off included (docs/events.md).
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  attribute {
    name = "accountId"
    type = "S"
  }
  attribute {
    name = "currency"
    type = "S"
  }
  point_in_time_recovery {
    enabled = var.tables.point_in_time_recovery
  }
  server_side_encryption {
    enabled     = local.sse.enabled
    kms_key_arn = local.sse.kms_key_arn
  }
  tags = var.tags
}

# Applied markers: one per stream record reflected in a summary (docs/exactly-once.md).
resource "aws_dynamodb_table" "applied" {
  #checkov:skip=CKV_AWS_28:Point-in-time recovery is on unless tables.point_in_time_recovery turns it off; checkov cannot read the variable.
  name                        = "${var.name_prefix}-applied"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = var.tables.applied_deletion_protection

  attribute {
    name = "id"
    type = "S"
  }
  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }
  point_in_time_recovery {
    enabled = var.tables.point_in_time_recovery
  }
  server_side_encryption {
    enabled     = local.sse.enabled
    kms_key_arn = local.sse.kms_key_arn
  }
  tags = var.tags
}

# Day and month closes (docs/history.md): one item per (account, currency, day) and per month, written
# create-only by the closer (ledger-ops close, and the scheduled closer) and never rewritten; read by the
# statement route. Keyed by "CURRENCY#YYYY-MM-DD" and "CURRENCY#YYYY-MM", so that a month's item sorts
# just before its days and one Query answers a statement.
resource "aws_dynamodb_table" "history" {
  #checkov:skip=CKV_AWS_28:Point-in-time recovery is on unless tables.point_in_time_recovery turns it off; checkov cannot read the variable.
  name                        = "${var.name_prefix}-account-history"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "accountId"
  range_key                   = "period"
  deletion_protection_enabled = var.tables.history_deletion_protection
  # Each close as it is written: what the day-close events' Pipe reads (modules/events). Closes are
  # create-only, so the new image is all a record needs. Always on, whatever the root's events says, for
  # the summary stream's reasons: no Pipe is left on a disabled source, and a Pipe created when events
  # come back on reads the same stream from its trim horizon (docs/events.md#day-closes). Turning it on
  # on an existing table is an in-place update of the table, not a replacement.
  stream_enabled   = true
  stream_view_type = "NEW_IMAGE"

  attribute {
    name = "accountId"
    type = "S"
  }
  attribute {
    name = "period"
    type = "S"
  }
  point_in_time_recovery {
    enabled = var.tables.point_in_time_recovery
  }
  server_side_encryption {
    enabled     = local.sse.enabled
    kms_key_arn = local.sse.kms_key_arn
  }
  tags = var.tags
}

# Balance items of the balance guard: one per (account, currency), written only by the API's write path in
# the same TransactWriteItems as the row(s) it counts, and seeded by ledger-ops guard init. Not the summary
# table: the fold writes the summaries, and sharing an item would make the two conflict.
# It exists whether the guard is on or off, so that switching the guard never deletes a table (and never
# fails on deletion protection half-way through an apply), and the overdraft limits outlive a switch-off:
# an item records the guard's epoch it counts for, and guard init carries each limit into the next epoch
# (docs/balance-guard.md). Empty and on demand, it costs nothing while the guard has never been on.
resource "aws_dynamodb_table" "balances" {
  #checkov:skip=CKV_AWS_28:Point-in-time recovery is on unless tables.point_in_time_recovery turns it off; checkov cannot read the variable.
  name                        = "${var.name_prefix}-account-balances"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "accountId"
  range_key                   = "currency"
  deletion_protection_enabled = var.tables.balances_deletion_protection

  attribute {
    name = "accountId"
    type = "S"
  }
  attribute {
    name = "currency"
    type = "S"
  }
  point_in_time_recovery {
    enabled = var.tables.point_in_time_recovery
  }
  server_side_encryption {
    enabled     = local.sse.enabled
    kms_key_arn = local.sse.kms_key_arn
  }
  tags = var.tags
}


# Holds (docs/holds.md): one item per (payer, hold id), the state every capture and void is conditional on,
# written only by the API's hold templates and released by the sweeper (and ledger-ops holds expire), each
# inside the TransactWriteItems that writes the hold's row. Like the balances table, it exists whether holds
# are on or off, so that switching them never deletes a table, and a hold made before a switch-off is still
# there after a switch back on. Its sparse index lists the open holds only: an item keeps sweepShard while it
# is open, and an item without the index's keys is not in the index
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.sparse).
resource "aws_dynamodb_table" "holds" {
  #checkov:skip=CKV_AWS_28:Point-in-time recovery is on unless tables.point_in_time_recovery turns it off; checkov cannot read the variable.
  name                        = "${var.name_prefix}-holds"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "accountId"
  range_key                   = "holdId"
  deletion_protection_enabled = var.tables.holds_deletion_protection

  attribute {
    name = "accountId"
    type = "S"
  }
  attribute {
    name = "holdId"
    type = "S"
  }
  attribute {
    name = "sweepShard"
    type = "S"
  }
  attribute {
    name = "expiresAt"
    type = "N"
  }
  # The open holds by expiry, per shard: the sweeper reads each shard up to its clock.
  global_secondary_index {
    name            = var.holds_index
    hash_key        = "sweepShard"
    range_key       = "expiresAt"
    projection_type = "ALL"
  }
  point_in_time_recovery {
    enabled = var.tables.point_in_time_recovery
  }
  server_side_encryption {
    enabled     = local.sse.enabled
    kms_key_arn = local.sse.kms_key_arn
  }
  tags = var.tags
}
