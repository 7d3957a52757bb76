# The api module with the balance guard on and off (mocked provider): the action of a transaction and the
# templates rendered for it, the stage variables the templates read (the guard's epoch; guardInitialised is
# guard init's, never Terraform's), the role's statements on the balances table and the 503 answer.

mock_provider "aws" {
  source = "./tests/terraform"
}

variables {
  name_prefix = "tftest"
  name        = "tftest-ledger"
  tables = {
    details  = { name = "d", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/d", index_name = "byRecordedAt" }
    summary  = { name = "s", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/s" }
    balances = { name = "b", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/b" }, holds = { name = "ho", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/ho" }
    history  = { name = "h", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/h" }
  }
  api        = { authorization = "AWS_IAM", cognito_user_pool_arns = [], cognito_grants = { read = "custom:accounts", transfer = "custom:accounts", post = null, limits = null, read_hold = "custom:accounts", hold = null, capture = null, void = null }, allow_unauthenticated = false, stage_name = "v1", throttle_rate = 100, throttle_burst = 200, log_retention_days = 30, execution_log_level = "OFF", create_logging_role = false, access_log = true }
  currencies = { EUR = 2 }
  # The api module's data files, as the root reads them.
  id_patterns  = { for k, v in jsondecode(file("lambda_src/ledger_aggregator/ids.json")) : k => v if k != "$comment" }
  balance_item = [for a in jsondecode(file("lambda_src/ledger_aggregator/balance_item.json")).attributes : { placeholder = a.placeholder, name = a.name, holds = try(a.holds, false) }]
  hold_item    = [for a in jsondecode(file("lambda_src/ledger_aggregator/hold_item.json")).attributes : { placeholder = a.placeholder, name = a.name }]
}

run "the_api_writes_balance_items_only_with_the_guard" {
  command = apply
  module {
    source = "./modules/api"
  }
  variables {
    guard = {}
  }

  assert {
    condition     = endswith(aws_api_gateway_integration.this["create_transaction"].uri, "action/TransactWriteItems") && endswith(aws_api_gateway_integration.this["create_transfer"].uri, "action/TransactWriteItems")
    error_message = "guarded, a transaction is written with its balance item in one TransactWriteItems"
  }
  assert {
    condition = alltrue([
      for m in ["create_transaction", "create_transfer"] :
      strcontains(aws_api_gateway_integration.this[m].request_templates["application/json"], "#set($guarded = true)")
    ])
    error_message = "the guarded templates are rendered with the action that writes the balance items (their refusals too)"
  }
  assert {
    condition = (
      aws_api_gateway_stage.this.variables.balancesTable == "b" &&
      aws_api_gateway_stage.this.variables.guardEpoch == output.guard.epoch &&
      can(regex("^[0-9a-f]{12}$", output.guard.epoch)) &&
      !contains(keys(aws_api_gateway_stage.this.variables), "guardInitialised")
    )
    error_message = "the templates find the balances table and the guard's epoch in the stage variables; guardInitialised is guard init's"
  }
  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.api.statement : (
        jsonencode(s.actions) == jsonencode(["dynamodb:UpdateItem"]) &&
        jsonencode(s.resources) == jsonencode(["arn:aws:dynamodb:eu-west-1:123456789012:table/b"]) &&
        contains([for c in s.condition : [c.test, c.variable, sort(c.values)]], ["ForAllValues:StringEquals", "dynamodb:Attributes", sort(["accountId", "currency", "available", "headroom", "overdraftLimit", "seeded", "epoch", "held", "free", "openHolds"])])
      ) if contains(s.resources, "arn:aws:dynamodb:eu-west-1:123456789012:table/b") && contains(s.actions, "dynamodb:UpdateItem")
      ]) && length([for s in data.aws_iam_policy_document.api.statement : s if contains(s.resources, "arn:aws:dynamodb:eu-west-1:123456789012:table/b")]) == 3 && one([
      for s in data.aws_iam_policy_document.api.statement : jsonencode(s.actions) if contains(s.resources, "arn:aws:dynamodb:eu-west-1:123456789012:table/b") && !contains(s.actions, "dynamodb:UpdateItem")
    ]) == jsonencode(["dynamodb:Query"])
    error_message = "the API role may only update the balance items' own attributes, and query them (GET .../balances), nothing else on the balances table"
  }
  assert {
    condition = one([
      for s in data.aws_iam_policy_document.api.statement : (
        jsonencode(s.actions) == jsonencode(["dynamodb:UpdateItem"]) &&
        contains([for c in s.condition : jsonencode([c.test, c.variable, sort(c.values)])], jsonencode(["StringEquals", "dynamodb:EnclosingOperation", ["TransactWriteItems"]])) &&
        contains([for c in s.condition : jsonencode([c.test, c.variable, sort(c.values)])], jsonencode(["ForAllValues:StringEquals", "dynamodb:Attributes", sort([for a in var.hold_item : a.name])]))
      ) if contains(s.resources, "arn:aws:dynamodb:eu-west-1:123456789012:table/ho") && contains(s.actions, "dynamodb:UpdateItem")
      ]) && length([for s in data.aws_iam_policy_document.api.statement : s if contains(s.resources, "arn:aws:dynamodb:eu-west-1:123456789012:table/ho")]) == 2 && one([
      for s in data.aws_iam_policy_document.api.statement : jsonencode(s.actions) if contains(s.resources, "arn:aws:dynamodb:eu-west-1:123456789012:table/ho") && !contains(s.actions, "dynamodb:UpdateItem")
    ]) == jsonencode(["dynamodb:GetItem"])
    error_message = "the API role may update a hold's own attributes only inside a transaction, and read one hold at a time, nothing else on the holds table"
  }
  assert {
    condition = (
      contains([for c in one([for s in data.aws_iam_policy_document.api.statement : s if s.sid == "CountInBalanceItemsInsideTransactions"]).condition : jsonencode([c.test, c.variable, sort(c.values)])], jsonencode(["StringEquals", "dynamodb:EnclosingOperation", ["TransactWriteItems"]])) &&
      contains([for c in one([for s in data.aws_iam_policy_document.api.statement : s if s.sid == "SetOverdraftLimits"]).condition : jsonencode([c.test, c.variable, sort(c.values)])], jsonencode(["Null", "dynamodb:EnclosingOperation", ["true"]]))
    )
    error_message = "money writes count into balance items only inside their TransactWriteItems; a limit only in its own UpdateItem"
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
    condition     = !contains(keys(aws_api_gateway_stage.this.variables), "balancesTable") && output.guard == null
    error_message = "without the guard the templates know no balances table, and there is no epoch"
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.api.statement : s if contains(s.resources, "arn:aws:dynamodb:eu-west-1:123456789012:table/b")]) == 3
    error_message = "the role's grants on the balance items stay while the guard is off: IAM is eventually consistent, and no switch may wait on it"
  }
  assert {
    condition     = contains(keys(aws_api_gateway_method_response.this), "create_transaction.503") && length(aws_api_gateway_method_response.this) == 11 * 9
    error_message = "without the guard every method still declares its nine statuses, 503 among them: a switch deletes no method response (a deletion is not ordered before the new deployment)"
  }
}
