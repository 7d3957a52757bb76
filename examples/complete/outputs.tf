output "api_url" {
  description = "Base URL of the ledger's API."
  value       = module.ledger.api_url
}

output "user_pool_id" {
  description = "The user pool whose ID tokens the API accepts."
  value       = aws_cognito_user_pool.customers.id
}

output "alarm_topic_arn" {
  description = "The encrypted topic the alarms notify."
  value       = module.ledger.alarm_topic_arn
}

output "balance_changes_queue_url" {
  description = "The queue subscribed to the balance events."
  value       = aws_sqs_queue.balance_changes.url
}
