# The balance guard off (the default) and on, with a mocked provider (no AWS): switching it on adds the
# balances table and changes the money-writing methods, and replaces no table.

mock_provider "aws" {
  source = "./tests/terraform"
}

variables {
  name_prefix = "tftest"
  lambda_zip  = "tests/terraform/fixtures/lambda.zip"
  # The account has API Gateway's CloudWatch role (logging.tftest.hcl tests the default, without it).
  api = { access_log = true }
}

run "guard_off_by_default" {
  command = apply

  assert {
    condition     = output.balances_table == null && module.tables.protected.balances == null
    error_message = "without the guard there is no balances table"
  }
  assert {
    condition     = !contains(output.alarm_names, "tftest-balance-conflicts") && !contains(output.alarm_names, "tftest-refused-writes") && module.api.refused_writes_metric == null
    error_message = "without the guard there is no balance alarm and no refused-writes metric"
  }
}

run "guard_on_adds_the_balances_table_and_replaces_no_table" {
  command = apply
  variables {
    guard = {}
  }

  assert {
    condition     = output.balances_table.name == "tftest-account-balances" && module.tables.protected.balances
    error_message = "the guard's balances table is named from name_prefix and refuses deletion by default"
  }
  assert {
    condition = (
      output.details_table == run.guard_off_by_default.details_table &&
      output.summary_table == run.guard_off_by_default.summary_table &&
      output.applied_table == run.guard_off_by_default.applied_table &&
      output.details_stream_arn == run.guard_off_by_default.details_stream_arn
    )
    error_message = "switching the guard on must not replace the details, summary or applied table"
  }
  assert {
    condition     = contains(output.alarm_names, "tftest-balance-conflicts") && contains(output.alarm_names, "tftest-balance-throttled-writes")
    error_message = "with the guard, the balance items' transaction conflicts and throttling have alarms"
  }
  assert {
    condition     = contains(output.alarm_names, "tftest-refused-writes") && module.api.refused_writes_metric.dimensions.ApiId == output.rest_api_id
    error_message = "with the guard, the money writes refused with 422 have an alarm, on this API's metric"
  }
}
