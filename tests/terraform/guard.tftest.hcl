# The balance guard off (the default), on, off and on again, with a mocked provider (no AWS): the balances
# table is there whatever the guard says (switching never deletes a table, so never fails on its deletion
# protection half-way), each switch starts a new epoch that the stage serves, and no table is replaced. A
# guarded stack from before epochs keeps its balances table: Terraform moves an object from index 0 to the
# resource without count by itself (no moved block is needed, and this holds it).

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
    condition     = output.balances_table.name == "tftest-account-balances" && module.tables.protected.balances
    error_message = "the balances table is there, protected from deletion, before the guard is ever on"
  }
  assert {
    condition     = output.guard == null && !contains(keys(module.api.request_templates), "set_limits")
    error_message = "without the guard there is no epoch and no limits route"
  }
  assert {
    condition     = !contains(output.alarm_names, "tftest-balance-conflicts") && !contains(output.alarm_names, "tftest-refused-writes") && module.api.refused_writes_metric == null
    error_message = "without the guard there is no balance alarm and no refused-writes metric"
  }
}

run "guard_on_starts_an_epoch_and_replaces_no_table" {
  command = apply
  variables {
    guard = {}
  }

  assert {
    condition     = can(regex("^[0-9a-f]{12}$", output.guard.epoch))
    error_message = "switching the guard on starts an epoch: 12 hexadecimal digits"
  }
  assert {
    condition = (
      output.details_table == run.guard_off_by_default.details_table &&
      output.summary_table == run.guard_off_by_default.summary_table &&
      output.applied_table == run.guard_off_by_default.applied_table &&
      output.balances_table == run.guard_off_by_default.balances_table &&
      output.details_stream_arn == run.guard_off_by_default.details_stream_arn
    )
    error_message = "switching the guard on must not replace a table"
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

run "another_apply_with_the_guard_on_keeps_its_epoch" {
  command = apply
  variables {
    guard = {}
    tags  = { changed = "yes" }
  }

  assert {
    condition     = output.guard.epoch == run.guard_on_starts_an_epoch_and_replaces_no_table.guard.epoch
    error_message = "only a switch of the guard starts an epoch: any other change keeps it, and its seeded items"
  }
}

run "guard_off_keeps_the_balances_table" {
  command = apply

  assert {
    condition     = output.balances_table == run.guard_off_by_default.balances_table && module.tables.protected.balances
    error_message = "switching the guard off deletes no table: the balance items and their limits stay"
  }
  assert {
    condition     = output.guard == null && !contains(keys(module.api.request_templates), "set_limits")
    error_message = "switched off, the API writes no balance item"
  }
  assert {
    condition     = length(module.api.authorization) == 11 && module.api.unserved.set_limits == { route = "PUT/accounts/{accountId}/limits", reason = "the balance guard is off (guard)" }
    error_message = "switching the guard off deletes no method (a deletion is not ordered before the new deployment): PUT limits answers 404 not_served"
  }
}

run "guard_on_again_starts_a_new_epoch" {
  command = apply
  variables {
    guard = {}
  }

  assert {
    condition     = output.guard.epoch != run.guard_on_starts_an_epoch_and_replaces_no_table.guard.epoch
    error_message = "the guard on again is a new epoch: no item seeded before the guard was off counts in it"
  }
  assert {
    condition     = output.balances_table == run.guard_off_by_default.balances_table && output.details_table == run.guard_off_by_default.details_table
    error_message = "switching the guard on again must not replace a table"
  }
}

run "a_guarded_stack_from_before_epochs" {
  state_key = "before_epochs"
  module {
    source = "./tests/terraform/fixtures/before_epochs"
  }
  providers = {
    aws = aws
  }
}

run "keeps_its_balances_table_when_upgraded" {
  state_key = "before_epochs"
  variables {
    guard = {}
  }

  assert {
    condition     = output.balances_table.arn == run.a_guarded_stack_from_before_epochs.balances_arn
    error_message = "the balances table (created with a count while the guard was on) was replaced on upgrade"
  }
}
