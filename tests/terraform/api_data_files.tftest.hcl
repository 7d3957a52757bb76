# The api module alone, rendered from the repository's data files (mocked provider): the currency list in the
# money-writing templates, the transfer route, and the id patterns it refuses.

mock_provider "aws" {
  source = "./tests/terraform"
}

variables {
  name_prefix = "tftest"
  name        = "tftest-ledger"
  tables      = { details = { name = "d", arn = "arn:aws:dynamodb:eu-west-1:1:table/d", index_name = "byRecordedAt" }, summary = { name = "s", arn = "arn:aws:dynamodb:eu-west-1:1:table/s" }, balances = { name = "b", arn = "arn:aws:dynamodb:eu-west-1:1:table/b" }, holds = { name = "ho", arn = "arn:aws:dynamodb:eu-west-1:1:table/ho" }, history = { name = "h", arn = "arn:aws:dynamodb:eu-west-1:1:table/h" } }
  currencies  = jsondecode(file("lambda_src/ledger_aggregator/currencies.json")).minorUnits
  api = {
    authorization = "AWS_IAM", cognito_user_pool_arns = [], cognito_grants = { read = "custom:accounts", transfer = "custom:accounts", post = null, limits = null, read_hold = "custom:accounts", hold = null, capture = null, void = null }, allow_unauthenticated = false,
    stage_name    = "v1", throttle_rate = 100, throttle_burst = 200, log_retention_days = 30, execution_log_level = "OFF", create_logging_role = false
  }
  # The api module's data files, as the root reads them.
  id_patterns  = { for k, v in jsondecode(file("lambda_src/ledger_aggregator/ids.json")) : k => v if k != "$comment" }
  balance_item = [for a in jsondecode(file("lambda_src/ledger_aggregator/balance_item.json")).attributes : { placeholder = a.placeholder, name = a.name, holds = try(a.holds, false) }]
  hold_item    = [for a in jsondecode(file("lambda_src/ledger_aggregator/hold_item.json")).attributes : { placeholder = a.placeholder, name = a.name }]
}

run "currencies_are_rendered_from_the_data_file" {
  command = plan
  module {
    source = "./modules/api"
  }
  assert {
    condition = alltrue([for m in ["create_transaction", "create_transfer"] : strcontains(
      aws_api_gateway_integration.this[m].request_templates["application/json"], ",JPY:0,KES:2,"
    )])
    error_message = "both money-writing templates carry the currencies of currencies.json, sorted"
  }
  assert {
    condition     = !anytrue([for m, i in aws_api_gateway_integration.this : strcontains(i.request_templates["application/json"], "$${")])
    error_message = "no template keeps an unrendered Terraform placeholder"
  }
  assert {
    condition     = endswith(aws_api_gateway_integration.this["create_transfer"].uri, "dynamodb:action/TransactWriteItems") && endswith(aws_api_gateway_integration.this["get_summary"].uri, "dynamodb:action/Query")
    error_message = "a transfer is one TransactWriteItems; a summary is a Query over the account's currencies"
  }
  assert {
    condition     = aws_api_gateway_method.this["create_transfer"].request_models["application/json"] == "NewTransfer" && aws_api_gateway_method.this["create_transaction"].request_models["application/json"] == "NewTransaction"
    error_message = "each money-writing route validates its body's shape with its own model"
  }
  assert {
    condition     = alltrue([for m, i in aws_api_gateway_integration.this : i.timeout_milliseconds == 29000]) && output.integration_timeout_seconds == 29
    error_message = "every integration has the 29-second timeout that the module gives out, and that the day's seal is computed from"
  }
}

# Reviewed finding: an id pattern is written into the templates as it is; one allowing a quote or | would let
# an id reach into the request's JSON or unanchor the patterns it is spliced into.
run "an_id_pattern_that_lets_an_id_reach_into_a_request_is_refused" {
  command = plan
  module {
    source = "./modules/api"
  }
  variables {
    id_patterns = { accountId = "[A-Za-z0-9_-]{1,64}|.*", writeId = "[^\\s]+" }
  }
  expect_failures = [var.id_patterns]
}
