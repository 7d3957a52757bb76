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
  description = "Balances table of the balance guard: name and arn; null when the guard is off."
  value = var.balances ? {
    name = aws_dynamodb_table.balances[0].name
    arn  = aws_dynamodb_table.balances[0].arn
  } : null
}

output "protected" {
  description = "Whether each table refuses deletion (deletion_protection_enabled), by table."
  value = {
    details  = aws_dynamodb_table.details.deletion_protection_enabled
    summary  = aws_dynamodb_table.summary.deletion_protection_enabled
    applied  = aws_dynamodb_table.applied.deletion_protection_enabled
    balances = try(aws_dynamodb_table.balances[0].deletion_protection_enabled, null)
  }
}
