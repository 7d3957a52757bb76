# The money model in the configuration: summaries keyed per (account, currency) and the tables' protection
# (api_data_files.tftest.hcl: the currency list rendered into the request templates, and the transfer route).

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
  balance_item = [for a in jsondecode(file("lambda_src/ledger_aggregator/balance_item.json")).attributes : { placeholder = a.placeholder, name = a.name, holds = try(a.holds, false) }]
  hold_item    = [for a in jsondecode(file("lambda_src/ledger_aggregator/hold_item.json")).attributes : { placeholder = a.placeholder, name = a.name }]
  holds_index  = jsondecode(file("lambda_src/ledger_aggregator/hold_item.json")).index.name
}

run "summaries_are_keyed_per_account_and_currency" {
  command = plan
  module {
    source = "./modules/tables"
  }
  variables {
    tables = {
      details_deletion_protection = true, summary_deletion_protection = true, applied_deletion_protection = true, balances_deletion_protection = true, history_deletion_protection = true, holds_deletion_protection = true,
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

# Reviewed finding: only the details table refused deletion; a name_prefix change planned the replacement
# of all three. The applied markers are the memory of exactly-once: every table is protected by default.
run "every_table_is_protected_from_deletion_by_default" {
  command = plan
  assert {
    condition = alltrue([
      module.tables.protected.details, module.tables.protected.summary, module.tables.protected.applied,
      module.tables.protected.balances, module.tables.protected.history, module.tables.protected.holds,
    ])
    error_message = "details, summary, applied, balances, history and holds tables all have deletion protection by default"
  }
}

run "protection_can_be_turned_off_per_table" {
  command = plan
  variables {
    tables = { summary_deletion_protection = false, applied_deletion_protection = false, balances_deletion_protection = false, history_deletion_protection = false, holds_deletion_protection = false }
  }
  assert {
    condition     = module.tables.protected == { details = true, summary = false, applied = false, balances = false, history = false, holds = false }
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
      details_deletion_protection = true, summary_deletion_protection = true, applied_deletion_protection = true, balances_deletion_protection = true, history_deletion_protection = true, holds_deletion_protection = true,
      point_in_time_recovery      = false, summary_billing_mode = "PAY_PER_REQUEST", summary_read_capacity = 5, summary_write_capacity = 5
    }
  }
  assert {
    condition = [
      for table in [aws_dynamodb_table.details, aws_dynamodb_table.summary, aws_dynamodb_table.applied, aws_dynamodb_table.balances, aws_dynamodb_table.history, aws_dynamodb_table.holds] :
      table.point_in_time_recovery[0].enabled
    ] == [false, false, false, false, false, false]
    error_message = "with tables.point_in_time_recovery = false, no table has point-in-time recovery"
  }
}
