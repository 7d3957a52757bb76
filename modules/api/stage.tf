# Kept whether or not the stage writes to it (api.access_log): turning the access log off loses no history.
resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name}"
  retention_in_days = var.api.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_api_gateway_stage" "this" {
  #checkov:skip=CKV2_AWS_51:Client certificates authenticate API Gateway to HTTP back ends; the back end here is DynamoDB through IAM.
  #checkov:skip=CKV2_AWS_29:WAF is an account-level choice; attach a web ACL to the stage ARN from outside the module.
  #checkov:skip=CKV2_AWS_4:Access and execution logs both need API Gateway's account-wide CloudWatch role, which a fresh account lacks: api.access_log and api.execution_log_level turn them on.
  #checkov:skip=CKV_AWS_76:The access log needs API Gateway's account-wide CloudWatch role, which a fresh account lacks: api.access_log (or api.create_logging_role) turns it on.
  #checkov:skip=CKV_AWS_120:Responses must be current (summaries change with every transaction); caching would serve stale balances.
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.api.stage_name
  xray_tracing_enabled = true
  # With the guard on, the money templates write the balance items of the guard's epoch (guard.tf): the
  # table and the epoch. guardInitialised is not Terraform's: `ledger-ops guard init` sets it to the epoch
  # it has seeded (stage variables take effect at once), and Terraform leaves it as it finds it.
  variables = merge(
    {
      detailsTable = var.tables.details.name
      summaryTable = var.tables.summary.name
      historyTable = var.tables.history.name
    },
    local.guarded ? {
      balancesTable = var.tables.balances.name
      guardEpoch    = local.guard_epoch
    } : {},
    # With holds on: the templates' holds and this variable are set from one value (main.tf's local.holds),
    # and guard init seeds the holds' attributes of an epoch whose stage names a holds table.
    local.holds ? { holdsTable = var.tables.holds.name } : {},
  )
  dynamic "access_log_settings" {
    for_each = local.access_log ? [aws_cloudwatch_log_group.access.arn] : []
    content {
      destination_arn = access_log_settings.value
      format = jsonencode({
        apiId            = "$context.apiId"
        requestId        = "$context.requestId"
        ip               = "$context.identity.sourceIp"
        caller           = "$context.identity.caller"
        requestTime      = "$context.requestTime"
        httpMethod       = "$context.httpMethod"
        resourcePath     = "$context.resourcePath"
        status           = "$context.status"
        integrationError = "$context.integration.error"
        integrationCode  = "$context.integration.status"
        latencyMs        = "$context.responseLatency"
      })
    }
  }
  tags = var.tags
  # The guard's epoch is replaced (guard.tf) before the stage changes, whichever way the guard is switched.
  depends_on = [aws_api_gateway_account.this, terraform_data.guard_epoch]
  lifecycle {
    ignore_changes = [variables["guardInitialised"]]
  }
}

resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225:Caching is off on purpose: a summary must be current.
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"
  settings {
    throttling_rate_limit  = var.api.throttle_rate
    throttling_burst_limit = var.api.throttle_burst
    metrics_enabled        = true
    # ERROR or INFO needs the account's API Gateway CloudWatch role (as the access log does): one that
    # exists, or create_logging_role; without it API Gateway refuses the update.
    logging_level = var.api.execution_log_level
    # Data tracing would log request bodies (descriptions, amounts): never on.
    data_trace_enabled = false
  }
}

# API Gateway writes access and execution logs through one role per account and region, and refuses a
# stage that turns either on while the account has none ("CloudWatch Logs role ARN must be set in account
# settings to enable logging"). Setting it is account-wide, so it is opt-in (api.create_logging_role); an
# account that has one already says so with api.access_log = true.
resource "aws_api_gateway_account" "this" {
  count               = var.api.create_logging_role ? 1 : 0
  cloudwatch_role_arn = aws_iam_role.logging[0].arn
}

# With the guard on and the access log written: the money writes refused with 422 (a debit or transfer past
# the floor, or an id reused with another request: the access log cannot tell the two apart, the response
# body is not logged), counted from the access log, per API (the alarms module's refused-writes alarm).
resource "aws_cloudwatch_log_metric_filter" "refused_writes" {
  count          = local.guarded && local.access_log ? 1 : 0
  name           = "${var.name_prefix}-refused-writes"
  log_group_name = aws_cloudwatch_log_group.access.name
  pattern        = local.refused_writes.pattern
  metric_transformation {
    namespace  = local.refused_writes.namespace
    name       = local.refused_writes.metric
    value      = "1"
    unit       = "Count"
    dimensions = { ApiId = "$.apiId" }
  }
}
