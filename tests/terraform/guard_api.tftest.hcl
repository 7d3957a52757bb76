# The api module with the balance guard on and off (mocked provider): the action of a transaction, the stage
# variables the templates read, the role's statement on the balances table and the 503 answer.

mock_provider "aws" {
  source = "./tests/terraform"
}

variables {
  name_prefix = "tftest"
  name        = "tftest-ledger"
  tables = {
    details = { name = "d", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/d", index_name = "byRecordedAt" }
    summary = { name = "s", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/s" }
  }
  api        = { authorization = "AWS_IAM", cognito_user_pool_arns = [], cognito_grants = { read = "custom:accounts", transfer = "custom:accounts", post = null, limits = null }, allow_unauthenticated = false, stage_name = "v1", throttle_rate = 100, throttle_burst = 200, log_retention_days = 30, execution_log_level = "OFF", create_logging_role = false, access_log = true }
  currencies = { EUR = 2 }
}

run "the_api_writes_balance_items_only_with_the_guard" {
  command = plan
  module {
    source = "./modules/api"
  }
  variables {
    tables = {
      details  = { name = "d", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/d", index_name = "byRecordedAt" }
      summary  = { name = "s", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/s" }
      balances = { name = "b", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/b" }
    }
    guard = { initialised = false }
  }

  assert {
    condition     = endswith(aws_api_gateway_integration.this["create_transaction"].uri, "action/TransactWriteItems") && endswith(aws_api_gateway_integration.this["create_transfer"].uri, "action/TransactWriteItems")
    error_message = "guarded, a transaction is written with its balance item in one TransactWriteItems"
  }
  assert {
    condition     = aws_api_gateway_stage.this.variables.balancesTable == "b" && aws_api_gateway_stage.this.variables.guardInitialised == "false"
    error_message = "the templates find the balances table and whether the guard is initialised in the stage variables"
  }
  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.api.statement : (
        jsonencode(s.actions) == jsonencode(["dynamodb:UpdateItem"]) &&
        jsonencode(s.resources) == jsonencode(["arn:aws:dynamodb:eu-west-1:123456789012:table/b"]) &&
        jsonencode([for c in s.condition : [c.test, c.variable, sort(c.values)]]) == jsonencode([["ForAllValues:StringEquals", "dynamodb:Attributes", sort(["accountId", "currency", "available", "headroom", "overdraftLimit", "seeded"])]])
      ) if contains(s.resources, "arn:aws:dynamodb:eu-west-1:123456789012:table/b")
    ]) && length([for s in data.aws_iam_policy_document.api.statement : s if contains(s.resources, "arn:aws:dynamodb:eu-west-1:123456789012:table/b")]) == 1
    error_message = "the API role may only update the balance items' own attributes, nothing else on the balances table"
  }

  assert {
    condition     = contains(keys(aws_api_gateway_method_response.this), "create_transaction.503")
    error_message = "a guarded debit of a balance not yet seeded is answered 503"
  }
  assert {
    condition = (
      aws_cloudwatch_log_metric_filter.refused_writes[0].pattern == "{ ($.status = \"422\") && ($.httpMethod = \"POST\") }" &&
      aws_cloudwatch_log_metric_filter.refused_writes[0].log_group_name == aws_cloudwatch_log_group.access.name &&
      aws_cloudwatch_log_metric_filter.refused_writes[0].metric_transformation[0].dimensions.ApiId == "$.apiId" &&
      jsondecode(aws_api_gateway_stage.this.access_log_settings[0].format).apiId == "$context.apiId" &&
      jsondecode(aws_api_gateway_stage.this.access_log_settings[0].format).status == "$context.status" &&
      jsondecode(aws_api_gateway_stage.this.access_log_settings[0].format).httpMethod == "$context.httpMethod" &&
      output.refused_writes_metric.metric == aws_cloudwatch_log_metric_filter.refused_writes[0].metric_transformation[0].name &&
      output.refused_writes_metric.namespace == aws_cloudwatch_log_metric_filter.refused_writes[0].metric_transformation[0].namespace
    )
    error_message = "the refused-writes metric counts the POSTs answered 422 in the access log, from the fields the log writes, per API"
  }
  assert {
    condition     = aws_api_gateway_method.this["set_limits"].http_method == "PUT" && endswith(aws_api_gateway_integration.this["set_limits"].uri, "action/UpdateItem") && aws_api_gateway_integration.this["set_limits"].passthrough_behavior == "NEVER"
    error_message = "with the guard, an operator sets a limit with PUT limits, one UpdateItem"
  }
}

run "the_api_without_the_guard_is_unchanged" {
  command = plan
  module {
    source = "./modules/api"
  }

  assert {
    condition     = endswith(aws_api_gateway_integration.this["create_transaction"].uri, "action/UpdateItem")
    error_message = "without the guard a transaction is one UpdateItem, as before"
  }
  assert {
    condition     = !contains(keys(aws_api_gateway_stage.this.variables), "balancesTable") && length([for s in data.aws_iam_policy_document.api.statement : s if s.sid == "UpdateBalanceItems"]) == 0
    error_message = "without the guard the templates and the role know no balances table"
  }
  assert {
    condition     = !contains(keys(aws_api_gateway_method_response.this), "create_transaction.503")
    error_message = "without the guard no method answers 503"
  }
}
