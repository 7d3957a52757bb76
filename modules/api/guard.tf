# The balance guard's epoch: a new one each time the guard is switched on or off. Every balance item and
# every row the guarded templates write records the epoch it counts for, and the templates count only into
# items of the stage's epoch (templates/_balance_update.vtl), so that rows written while the guard was off
# can never be missed by items seeded before: after any switch, a balance is refused (503) until
# `ledger-ops guard init` has seeded it from every row outside the new epoch and carried its overdraft
# limit over (docs/balance-guard.md).
# The epoch is replaced before the stage changes, whichever way the guard goes (the stage depends on it), so
# an apply that fails after the stage changed can never leave the stage serving an epoch it served before the
# guard was off: no sequence of applies, failed ones included, lets a debit count on a stale balance.
# Holds switched on or off replace it too: the balance items of an epoch either all keep held, free and
# openHolds or none does, so that no limit set later lets a debit past a floor the holds moved. The value is
# true or false (the guard) while holds are off, as it was before holds existed, so that taking this version
# replaces no epoch; and "holds" while they are on (a tuple's element keeps its own type).
resource "terraform_data" "guard_epoch" {
  triggers_replace = [local.guarded, "holds"][local.holds ? 1 : 0]
}

locals {
  # 12 hex digits (48 bits) of the epoch's random id: short in every row, and never equal to an earlier one.
  guard_epoch = local.guarded ? substr(replace(terraform_data.guard_epoch.id, "-", ""), 0, 12) : null
}

locals {
  # The balance item's attributes (balance_item.json; templates/_balance_update.vtl, set_limits.request.vtl):
  # the API role may name no other (iam.tf). overdraftLimit is among them for a debit too: a refused one
  # returns the whole item (ReturnValuesOnConditionCheckFailure) to the error template.
  # Holds' attributes (held, free, openHolds) too: granted whether holds are on or off, as the tables are
  # (iam.tf), and written only by the templates of an API with holds on.
  balance_item_attributes = [for a in var.balance_item : a.name]
  # The same names by placeholder, as the templates write them: ${balance.av} is "available".
  balance = { for a in var.balance_item : a.placeholder => a.name }
  # A hold's item's names by placeholder (hold_item.json; the hold templates): ${hold.rm} is "remaining".
  hold = { for a in var.hold_item : a.placeholder => a.name }
  # The two ways the API role may write a balance item (iam.tf): by its dynamodb:EnclosingOperation.
  balance_writes = {
    CountInBalanceItemsInsideTransactions = { test = "StringEquals", values = ["TransactWriteItems"] }
    SetOverdraftLimits                    = { test = "Null", values = ["true"] }
  }
}
