output "name" {
  description = "Function name."
  value       = aws_lambda_function.this.function_name
}

output "arn" {
  description = "Function ARN."
  value       = aws_lambda_function.this.arn
}

output "role_name" {
  description = "Execution role name."
  value       = aws_iam_role.this.name
}

output "tracing" {
  description = "X-Ray tracing mode of the function, and the POWERTOOLS_TRACE_DISABLED value its handler reads."
  value = {
    mode           = aws_lambda_function.this.tracing_config[0].mode
    trace_disabled = aws_lambda_function.this.environment[0].variables["POWERTOOLS_TRACE_DISABLED"]
  }
}

output "role_arn" {
  description = "Execution role ARN (for queue policies that name their senders)."
  value       = aws_iam_role.this.arn
}

output "timeout_seconds" {
  description = "The function's timeout."
  value       = aws_lambda_function.this.timeout
}
