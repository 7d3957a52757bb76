# Stage logging and API Gateway's account-wide CloudWatch role (mocked provider): access and execution
# logs need the role (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html), so
# by default the stage writes no access log and a first apply succeeds in a fresh account; the access log,
# the guard's refused-writes metric filter and its alarm come together, with the role created or named.

mock_provider "aws" {
  source = "./tests/terraform"
}

variables {
  name_prefix = "tftest"
  lambda_zip  = "tests/terraform/fixtures/lambda.zip"
  # The api module's data files, as the root reads them.
  id_patterns  = { for k, v in jsondecode(file("lambda_src/ledger_aggregator/ids.json")) : k => v if k != "$comment" }
  balance_item = [for a in jsondecode(file("lambda_src/ledger_aggregator/balance_item.json")).attributes : { placeholder = a.placeholder, name = a.name, holds = try(a.holds, false) }]
  hold_item    = [for a in jsondecode(file("lambda_src/ledger_aggregator/hold_item.json")).attributes : { placeholder = a.placeholder, name = a.name }]
}

run "no_access_log_by_default_and_the_check_says_so_until_chosen" {
  command = apply
  variables {
    guard = {}
  }
  expect_failures = [check.api_access_log]

  assert {
    condition     = !module.api.access_log && module.api.refused_writes_metric == null
    error_message = "without the account's CloudWatch role named or created, the stage writes no access log and nothing counts refused writes"
  }
  assert {
    condition     = !contains(output.alarm_names, "tftest-refused-writes")
    error_message = "no refused-writes alarm without the access log it counts from"
  }
}

run "no_access_log_by_choice_is_not_warned_of" {
  command = apply
  variables {
    guard = {}
    api   = { access_log = false }
  }

  assert {
    condition     = !module.api.access_log && module.api.refused_writes_metric == null && output.api_access_log == null
    error_message = "access_log = false: no access log, no refused-writes metric, and no warning (the check passes)"
  }
}

run "access_log_with_the_accounts_role" {
  command = apply
  variables {
    guard = {}
    api   = { access_log = true }
  }

  assert {
    condition     = module.api.access_log && module.api.refused_writes_metric != null && contains(output.alarm_names, "tftest-refused-writes")
    error_message = "with the account's role, the stage writes its access log and the guard's refused writes are counted and alarmed"
  }
}

run "creating_the_role_turns_the_access_log_on" {
  command = apply
  variables {
    api = { create_logging_role = true }
  }

  assert {
    condition     = module.api.access_log && module.api.refused_writes_metric == null
    error_message = "creating the role turns the access log on; without the guard there is no refused-writes metric"
  }
}

run "the_stage_logs_only_when_asked" {
  command = plan
  module {
    source = "./modules/api"
  }
  variables {
    name = "tftest-ledger"
    tables = {
      details  = { name = "d", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/d", index_name = "byRecordedAt" }
      summary  = { name = "s", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/s" }
      balances = { name = "b", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/b" }, holds = { name = "ho", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/ho" }
      history  = { name = "h", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/h" }
    }
    api        = { authorization = "AWS_IAM", cognito_user_pool_arns = [], cognito_grants = { read = "custom:accounts", transfer = "custom:accounts", post = null, limits = null, read_hold = "custom:accounts", hold = null, capture = null, void = null }, allow_unauthenticated = false, stage_name = "v1", throttle_rate = 100, throttle_burst = 200, log_retention_days = 30, execution_log_level = "OFF", create_logging_role = false, access_log = null }
    currencies = { EUR = 2 }
  }

  assert {
    condition     = length(aws_api_gateway_stage.this.access_log_settings) == 0 && length(aws_api_gateway_account.this) == 0
    error_message = "by default the stage has no access log settings and the account's settings are left alone"
  }
}
