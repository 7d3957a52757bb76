output "details" {
  description = "Account Details table: name, arn, stream_arn and the newest-first index name."
  value = {
    name       = aws_dynamodb_table.details.name
    arn        = aws_dynamodb_table.details.arn
    stream_arn = aws_dynamodb_table.details.stream_arn
    index_name = local.details_index
  }
}

output "summary" {
  description = "Account Summary table: name, arn and stream_arn (its stream is always on)."
  value = {
    name       = aws_dynamodb_table.summary.name
    arn        = aws_dynamodb_table.summary.arn
    stream_arn = aws_dynamodb_table.summary.stream_arn
  }
}

output "applied" {
  description = "Applied-marker table: name and arn."
  value = {
    name = aws_dynamodb_table.applied.name
    arn  = aws_dynamodb_table.applied.arn
  }
}

output "balances" {
  description = "Balances table of the balance guard (kept whether the guard is on or off): name and arn."
  value = {
    name = aws_dynamodb_table.balances.name
    arn  = aws_dynamodb_table.balances.arn
  }
}

output "holds" {
  description = "Holds table (kept whether holds are on or off): name, arn and its sparse index of open holds."
  value = {
    name       = aws_dynamodb_table.holds.name
    arn        = aws_dynamodb_table.holds.arn
    index_name = var.holds_index
  }
}

output "history" {
  description = "History table of the day and month closes: name, arn and stream_arn (its stream is always on)."
  value = {
    name       = aws_dynamodb_table.history.name
    arn        = aws_dynamodb_table.history.arn
    stream_arn = aws_dynamodb_table.history.stream_arn
  }
}

output "protected" {
  description = "Whether each table refuses deletion (deletion_protection_enabled), by table."
  value = {
    details  = aws_dynamodb_table.details.deletion_protection_enabled
    summary  = aws_dynamodb_table.summary.deletion_protection_enabled
    applied  = aws_dynamodb_table.applied.deletion_protection_enabled
    balances = aws_dynamodb_table.balances.deletion_protection_enabled
    history  = aws_dynamodb_table.history.deletion_protection_enabled
    holds    = aws_dynamodb_table.holds.deletion_protection_enabled
  }
}
