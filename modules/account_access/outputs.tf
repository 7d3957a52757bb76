output "json" {
  description = "The IAM policy document (JSON) allowing execute-api:Invoke on the granted accounts' routes only."
  value       = jsonencode(local.document)
}

output "resources" {
  description = "The execute-api resource ARNs the policy allows, sorted."
  value       = local.resources
}
