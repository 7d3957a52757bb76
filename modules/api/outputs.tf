output "invoke_url" {
  description = "Base URL of the stage, e.g. https://<id>.execute-api.<region>.amazonaws.com/v1."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "rest_api_id" {
  description = "REST API id."
  value       = aws_api_gateway_rest_api.this.id
}

output "stage_name" {
  description = "Stage name."
  value       = aws_api_gateway_stage.this.stage_name
}

output "stage_arn" {
  description = "Stage ARN (attach a WAF web ACL here)."
  value       = aws_api_gateway_stage.this.arn
}

output "execution_arn" {
  description = "Execution ARN, for IAM policies that allow calling the API."
  value       = aws_api_gateway_rest_api.this.execution_arn
}

output "access_log_group_name" {
  description = "Access-log group of the stage."
  value       = aws_cloudwatch_log_group.access.name
}

output "role_arn" {
  description = "Role API Gateway assumes to call DynamoDB."
  value       = aws_iam_role.api.arn
}
