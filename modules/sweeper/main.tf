# The holds sweeper (docs/holds.md), with holds on: an EventBridge Scheduler schedule (the schedule module)
# invokes the sweeper function, which releases every open hold past its expiry, each in one transaction
# with its release row and its balance item. A run that fails (an item of the index it passed over) goes to
# the dead-letter queue; the next run is its retry. Before holds are switched off, the refusal below fails
# the apply while any hold is open, so that no epoch without holds forgets funds a hold still reserves. The
# root creates the function with the function module, from this module's function output.

locals {
  environment = {
    DETAILS_TABLE                = var.tables.details.name
    HOLDS_TABLE                  = var.tables.holds.name
    HOLDS_INDEX                  = var.tables.holds.index_name
    BALANCES_TABLE               = var.tables.balances.name
    GUARD_EPOCH                  = var.guard_epoch
    POWERTOOLS_SERVICE_NAME      = var.names.function
    POWERTOOLS_METRICS_NAMESPACE = var.name_prefix
  }
}

module "schedule" {
  source              = "../schedule"
  names               = { schedule = var.names.schedule, dlq = var.names.dlq }
  description         = "Releases the open holds past their expiry (docs/holds.md)."
  schedule_expression = var.schedule_expression
  # A run's record older than this is dropped: a later run (each minute by default) does its work.
  event_age_seconds = 300
  function          = var.function
  function_role_arn = var.function_role_arn
  operator_arns     = var.operator_arns
  kms_key_arn       = var.kms_key_arn
  tags              = var.tags
}

# Before Terraform deletes this (holds switched off, the guard switched off, or a destroy), it invokes the
# sweeper with this input and the delete action (lifecycle_scope CRUD); the sweeper raises, and so fails the
# apply with its reason, while the holds table's index lists an open hold
# (ledger_aggregator.handlers.sweeper). Created or updated, the invocation only arms the refusal. It names
# the guard's epoch, so it is destroyed before the epoch is replaced (and the stage, which waits for the new
# epoch, keeps serving holds when it refuses); it depends on the schedule and the function, so they are
# destroyed only after it has let the switch go on.
resource "aws_lambda_invocation" "holds_off_guard" {
  function_name   = var.function.name
  lifecycle_scope = "CRUD"
  input = jsonencode({
    ledgerGuard = "holds-off"
    guardEpoch  = var.guard_epoch
  })
  depends_on = [module.schedule]
}
