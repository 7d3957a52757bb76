# The money model in the configuration: summaries keyed per (account, currency), the currency list
# rendered into the request templates from the one data file, and the transfer route.

mock_provider "aws" {
  source = "./tests/terraform"
}

variables {
  name_prefix = "tftest"
  lambda_zip  = "tests/terraform/fixtures/lambda.zip"
  # The account has API Gateway's CloudWatch role (logging.tftest.hcl tests the default, without it).
  api = { access_log = true }
  # The api module's data files, as the root reads them.
  id_patterns  = { for k, v in jsondecode(file("lambda_src/ledger_aggregator/ids.json")) : k => v if k != "$comment" }
  balance_item = [for a in jsondecode(file("ops/ledger_ops/balance_item.json")).attributes : { placeholder = a.placeholder, name = a.name }]
}

run "summaries_are_keyed_per_account_and_currency" {
  command = plan
  module {
    source = "./modules/tables"
  }
  variables {
    tables = {
      details_deletion_protection = true, summary_deletion_protection = true, applied_deletion_protection = true, balances_deletion_protection = true,
      point_in_time_recovery      = true, summary_billing_mode = "PROVISIONED", summary_read_capacity = 5, summary_write_capacity = 5
    }
  }
  assert {
    condition     = aws_dynamodb_table.summary.hash_key == "accountId" && aws_dynamodb_table.summary.range_key == "currency"
    error_message = "the summary table is keyed on accountId (partition) and currency (sort)"
  }
  assert {
    condition     = toset([for a in aws_dynamodb_table.summary.attribute : "${a.name}:${a.type}"]) == toset(["accountId:S", "currency:S"])
    error_message = "the summary table declares exactly its two string key attributes"
  }
}

run "currencies_are_rendered_from_the_data_file" {
  command = plan
  module {
    source = "./modules/api"
  }
  variables {
    name       = "tftest-ledger"
    tables     = { details = { name = "d", arn = "arn:aws:dynamodb:eu-west-1:1:table/d", index_name = "byRecordedAt" }, summary = { name = "s", arn = "arn:aws:dynamodb:eu-west-1:1:table/s" }, balances = { name = "b", arn = "arn:aws:dynamodb:eu-west-1:1:table/b" } }
    currencies = jsondecode(file("lambda_src/ledger_aggregator/currencies.json")).minorUnits
    api = {
      authorization = "AWS_IAM", cognito_user_pool_arns = [], cognito_grants = { read = "custom:accounts", transfer = "custom:accounts", post = null, limits = null }, allow_unauthenticated = false,
      stage_name    = "v1", throttle_rate = 100, throttle_burst = 200, log_retention_days = 30, execution_log_level = "OFF", create_logging_role = false
    }
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
}

# Reviewed finding: an id pattern is written into the templates as it is; one allowing a quote or | would let
# an id reach into the request's JSON or unanchor the patterns it is spliced into.
run "an_id_pattern_that_lets_an_id_reach_into_a_request_is_refused" {
  command = plan
  module {
    source = "./modules/api"
  }
  variables {
    name        = "tftest-ledger"
    tables      = { details = { name = "d", arn = "arn:aws:dynamodb:eu-west-1:1:table/d", index_name = "byRecordedAt" }, summary = { name = "s", arn = "arn:aws:dynamodb:eu-west-1:1:table/s" }, balances = { name = "b", arn = "arn:aws:dynamodb:eu-west-1:1:table/b" } }
    currencies  = jsondecode(file("lambda_src/ledger_aggregator/currencies.json")).minorUnits
    id_patterns = { accountId = "[A-Za-z0-9_-]{1,64}|.*", writeId = "[^\\s]+" }
    api = {
      authorization = "AWS_IAM", cognito_user_pool_arns = [], cognito_grants = { read = "custom:accounts", transfer = "custom:accounts", post = null, limits = null }, allow_unauthenticated = false,
      stage_name    = "v1", throttle_rate = 100, throttle_burst = 200, log_retention_days = 30, execution_log_level = "OFF", create_logging_role = false
    }
  }
  expect_failures = [var.id_patterns]
}

# Reviewed finding: only the details table refused deletion; a name_prefix change planned the replacement
# of all three. The applied markers are the memory of exactly-once: every table is protected by default.
run "every_table_is_protected_from_deletion_by_default" {
  command = plan
  assert {
    condition = alltrue([
      module.tables.protected.details, module.tables.protected.summary, module.tables.protected.applied,
      module.tables.protected.balances,
    ])
    error_message = "details, summary, applied and balances tables all have deletion protection by default"
  }
}

run "protection_can_be_turned_off_per_table" {
  command = plan
  variables {
    tables = { summary_deletion_protection = false, applied_deletion_protection = false, balances_deletion_protection = false }
  }
  assert {
    condition     = module.tables.protected == { details = true, summary = false, applied = false, balances = false }
    error_message = "each table's protection follows its own setting"
  }
}

# Point-in-time recovery follows tables.point_in_time_recovery on every table (it was always on for the
# applied markers and the balances, whatever the setting).
run "point_in_time_recovery_follows_its_setting_on_every_table" {
  command = plan
  module {
    source = "./modules/tables"
  }
  variables {
    tables = {
      details_deletion_protection = true, summary_deletion_protection = true, applied_deletion_protection = true, balances_deletion_protection = true,
      point_in_time_recovery      = false, summary_billing_mode = "PAY_PER_REQUEST", summary_read_capacity = 5, summary_write_capacity = 5
    }
  }
  assert {
    condition = [
      for table in [aws_dynamodb_table.details, aws_dynamodb_table.summary, aws_dynamodb_table.applied, aws_dynamodb_table.balances] :
      table.point_in_time_recovery[0].enabled
    ] == [false, false, false, false]
    error_message = "with tables.point_in_time_recovery = false, no table has point-in-time recovery"
  }
}
