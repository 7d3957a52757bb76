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
  description = "Access-log group of the stage (written to only when access_log is true)."
  value       = aws_cloudwatch_log_group.access.name
}

output "access_log" {
  description = "Whether the stage writes its access log (api.access_log, by default api.create_logging_role)."
  value       = local.access_log
}

output "role_arn" {
  description = "Role API Gateway assumes to call DynamoDB."
  value       = aws_iam_role.api.arn
}

output "routes" {
  description = "Every route served, by operation (read, post, transfer; limits with the balance guard on; hold, capture, void and read_hold with holds), as METHOD/path with {accountId}: what follows <execution_arn>/<stage>/ in an execute-api resource ARN."
  value = {
    for operation in distinct([for m in values(local.served) : m.operation]) :
    operation => sort([for m in values(local.served) : "${m.http_method}${m.route}" if m.operation == operation])
  }
}

output "unserved" {
  description = "The routes kept for an option that is off, each answering 404 not_served: by method, its route and why."
  value       = { for name, why in local.unserved : name => { route = "${local.methods[name].http_method}${local.methods[name].route}", reason = why } }
}

output "authorization" {
  description = "How every method is authorized: its authorization type and authorizer id (null without one)."
  value       = { for name, method in aws_api_gateway_method.this : name => { type = method.authorization, authorizer_id = method.authorizer_id } }
}

output "authorizer_id" {
  description = "The Cognito user pool authorizer (COGNITO), else null."
  value       = try(aws_api_gateway_authorizer.cognito[0].id, null)
}

output "stage_variables" {
  description = "The stage's variables as Terraform sets them: the tables, and with the guard its epoch, with holds the holds table."
  value       = aws_api_gateway_stage.this.variables
}

output "request_templates" {
  description = "Each served method's request template as deployed (partials placed in), so that the account check of each operation can be reviewed and tested."
  value       = { for method, integration in aws_api_gateway_integration.this : method => integration.request_templates["application/json"] if contains(keys(local.served), method) }
}

output "refused_writes_metric" {
  description = "With the guard on and the access log written, the metric of money writes refused with 422 (counted from the access log): namespace, metric and dimensions; else null."
  value = local.guarded && local.access_log ? {
    namespace  = local.refused_writes.namespace
    metric     = local.refused_writes.metric
    dimensions = { ApiId = aws_api_gateway_rest_api.this.id }
  } : null
}

output "guard" {
  description = "The balance guard when on: its epoch (the stage variable guardEpoch, new at each switch); null when off."
  value       = local.guarded ? { epoch = local.guard_epoch } : null
}

output "integration_timeout_seconds" {
  description = "How long an integration may take, in seconds: a row is in DynamoDB at most this long after its recordedAt."
  value       = local.integration_timeout_ms / 1000
}
