output "api_url" {
  description = "Base URL of the ledger's API."
  value       = module.ledger.api_url
}

output "checkout_policy" {
  description = "The policy that holds the checkout role to its two accounts."
  value       = module.checkout_access.json
}
