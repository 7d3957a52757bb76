output "dlq" {
  description = "The closer's dead-letter queue (failed runs, undelivered invocations): name, url and arn."
  value       = module.schedule.dlq
}

output "schedule" {
  description = "The schedule that runs the closer: name and expression."
  value       = module.schedule.schedule
}

output "function" {
  description = "What the closer function needs from this module: its environment variables and its policy (JSON)."
  value = {
    environment = local.environment
    policy_json = data.aws_iam_policy_document.function.json
  }
}
