# Holds (docs/holds.md) switched on and off with a mocked provider (no AWS): the guard's epoch is replaced on
# each switch, so that an epoch's balance items either all keep the holds' attributes or none does; one
# value sets the hold routes, the templates' holds and the stage's holdsTable; the holds table is there
# whatever the option says, and no table is replaced. The refusal to switch holds off while one is open is
# the sweeper's (tests/unit/handlers/test_sweeper.py); its order against the epoch, in the local account
# (tests/integration/test_holds.py).

mock_provider "aws" {
  source = "./tests/terraform"
}

variables {
  name_prefix = "tftest"
  lambda_zip  = "tests/terraform/fixtures/lambda.zip"
  api         = { access_log = true }
  guard       = {}
}

run "guard_on_without_holds" {
  command = apply

  assert {
    condition     = output.holds_table.name == "tftest-holds" && output.holds_table.index_name == "openByExpiry" && module.tables.protected.holds
    error_message = "the holds table and its index are there, protected from deletion, before holds are ever on"
  }
  assert {
    condition     = output.holds == null && !contains(keys(module.api.request_templates), "create_hold") && contains(keys(module.api.request_templates), "get_balances")
    error_message = "without holds there is no hold route and no sweeper; the guard's balances are read"
  }
  assert {
    condition     = !contains(keys(module.api.stage_variables), "holdsTable")
    error_message = "without holds the stage names no holds table, so guard init seeds no holds' attribute"
  }
  assert {
    condition     = length(module.api.authorization) == 11 && jsonencode(module.api.unserved) == jsonencode({ capture_hold = { route = "POST/accounts/{accountId}/holds/{holdId}/captures", reason = "holds are off (guard.holds)" }, create_hold = { route = "POST/accounts/{accountId}/holds", reason = "holds are off (guard.holds)" }, get_hold = { route = "GET/accounts/{accountId}/holds/{holdId}", reason = "holds are off (guard.holds)" }, void_hold = { route = "POST/accounts/{accountId}/holds/{holdId}/void", reason = "holds are off (guard.holds)" } })
    error_message = "the hold routes are kept without holds, each answering 404 not_served: the API's eleven methods are there whatever the options"
  }
}

run "holds_on_start_an_epoch_and_replace_no_table" {
  command = apply
  variables {
    guard = { holds = { max_open_per_balance = 7 } }
  }

  assert {
    condition     = output.guard.epoch != run.guard_on_without_holds.guard.epoch
    error_message = "switching holds on starts an epoch: its balance items all keep held, free and openHolds"
  }
  assert {
    condition = (
      output.details_table == run.guard_on_without_holds.details_table &&
      output.balances_table == run.guard_on_without_holds.balances_table &&
      output.holds_table == run.guard_on_without_holds.holds_table &&
      output.summary_table == run.guard_on_without_holds.summary_table
    )
    error_message = "switching holds on must not replace a table"
  }
  assert {
    condition     = module.api.stage_variables.holdsTable == "tftest-holds" && strcontains(module.api.request_templates.create_transaction, "#set($holds = true)")
    error_message = "holds on: the stage names the holds table, and the money templates count held and free"
  }
  assert {
    condition = alltrue([for route in ["POST/accounts/{accountId}/holds", "GET/accounts/{accountId}/holds/{holdId}", "POST/accounts/{accountId}/holds/{holdId}/captures", "POST/accounts/{accountId}/holds/{holdId}/void"] :
    contains(flatten(values(output.api_access.routes)), route)])
    error_message = "holds on: the four hold routes are served"
  }
  assert {
    condition     = output.api_access.routes.hold == tolist(["POST/accounts/{accountId}/holds"]) && output.api_access.routes.read_hold == tolist(["GET/accounts/{accountId}/holds/{holdId}"]) && output.api_access.routes.capture == tolist(["POST/accounts/{accountId}/holds/{holdId}/captures"]) && output.api_access.routes.void == tolist(["POST/accounts/{accountId}/holds/{holdId}/void"])
    error_message = "each hold route is an operation of its own, to grant per account"
  }
  assert {
    condition     = strcontains(module.api.request_templates.create_hold, "\":cap\": {\"N\": \"7\"}") && strcontains(module.api.request_templates.create_hold, "> 2592000)")
    error_message = "the cap and the longest expiry are rendered from guard.holds"
  }
  assert {
    condition     = output.holds.schedule.expression == "rate(1 minute)" && output.holds.sweeper.name == "tftest-sweeper" && module.sweeper_function[0].timeout_seconds < 60
    error_message = "holds on: the sweeper runs each minute, within guard init's settle time"
  }
  assert {
    condition     = module.sweeper[0].function.environment.GUARD_EPOCH == output.guard.epoch && module.sweeper[0].function.environment.HOLDS_INDEX == "openByExpiry"
    error_message = "the sweeper releases into the stage's epoch, from the holds table's index"
  }
  assert {
    condition     = contains(output.alarm_names, "tftest-dlq-tftest-sweeper-dlq") && contains(output.alarm_names, "tftest-errors-tftest-sweeper")
    error_message = "the sweeper's failed runs and errors have alarms"
  }
  assert {
    condition     = length(module.api.authorization) == 11 && module.api.unserved == {} && output.unserved_routes == {}
    error_message = "holds on serve the four hold routes: switching them on makes no method"
  }
}

run "another_apply_with_holds_keeps_the_epoch" {
  command = apply
  variables {
    guard = { holds = { max_open_per_balance = 9, max_expiry_seconds = 86400 } }
  }

  assert {
    condition     = output.guard.epoch == run.holds_on_start_an_epoch_and_replace_no_table.guard.epoch
    error_message = "only a switch of holds (or the guard) starts an epoch: new bounds keep it, and its seeded items"
  }
  assert {
    condition     = strcontains(module.api.request_templates.create_hold, "\":cap\": {\"N\": \"9\"}") && strcontains(module.api.request_templates.create_hold, "> 86400)")
    error_message = "new bounds reach the templates"
  }
}

run "holds_off_start_an_epoch_and_keep_the_holds_table" {
  command = apply

  assert {
    condition     = output.guard.epoch != run.holds_on_start_an_epoch_and_replace_no_table.guard.epoch && output.guard.epoch != run.guard_on_without_holds.guard.epoch
    error_message = "switching holds off starts an epoch, never one served before"
  }
  assert {
    condition     = output.holds_table == run.guard_on_without_holds.holds_table && output.holds == null
    error_message = "switching holds off deletes no table, and removes the sweeper"
  }
  assert {
    condition     = !contains(keys(module.api.stage_variables), "holdsTable") && strcontains(module.api.request_templates.create_transaction, "#set($holds = false)")
    error_message = "holds off: no holds table on the stage, and the templates keep no holds' attribute"
  }
  assert {
    condition     = length(module.api.authorization) == 11 && jsonencode(module.api.unserved) == jsonencode({ capture_hold = { route = "POST/accounts/{accountId}/holds/{holdId}/captures", reason = "holds are off (guard.holds)" }, create_hold = { route = "POST/accounts/{accountId}/holds", reason = "holds are off (guard.holds)" }, get_hold = { route = "GET/accounts/{accountId}/holds/{holdId}", reason = "holds are off (guard.holds)" }, void_hold = { route = "POST/accounts/{accountId}/holds/{holdId}/void", reason = "holds are off (guard.holds)" } })
    error_message = "switching holds off deletes no method (a deletion is not ordered before the new deployment): the hold routes answer 404 not_served"
  }
}

run "the_guard_off_takes_holds_with_it" {
  command = plan
  variables {
    guard = null
  }

  assert {
    condition     = output.holds == null && output.guard == null
    error_message = "the guard off takes holds with it"
  }
  assert {
    condition     = length(module.api.authorization) == 11 && length(module.api.unserved) == 6 && module.api.unserved.set_limits.reason == "the balance guard is off (guard)" && module.api.unserved.get_balances.route == "GET/accounts/{accountId}/balances"
    error_message = "the guard off keeps its routes and the holds', each answering 404 not_served"
  }
}
