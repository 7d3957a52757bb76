locals {
  # EventBridge Scheduler's recurring forms (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html),
  # as history.schedule and guard.holds.sweep_schedule are validated: rate(value unit), 1 with the singular
  # unit, more with the plural; or cron() with six fields, exactly one of day-of-month and day-of-week "?".
  schedule_pattern = "^(rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)|cron\\(\\S+ \\S+ (\\? \\S+ [^?\\s]\\S*|[^?\\s]\\S* \\S+ \\?) \\S+\\))$"
  package = {
    path   = var.lambda_zip
    sha256 = filebase64sha256(var.lambda_zip)
  }
  # The one list of currencies: ISO 4217 codes and minor units, also read by the aggregator and the tests.
  currencies = jsondecode(file("${path.module}/lambda_src/ledger_aggregator/currencies.json")).minorUnits
  # The one file of id patterns, also read by the aggregator, the OpenAPI generator and the tests.
  ids = jsondecode(file("${path.module}/lambda_src/ledger_aggregator/ids.json"))
  # The balance guard's item: its attribute names by placeholder, also read by ledger-ops.
  balance_item = jsondecode(file("${path.module}/lambda_src/ledger_aggregator/balance_item.json")).attributes
  hold_item    = jsondecode(file("${path.module}/lambda_src/ledger_aggregator/hold_item.json")).attributes
  hold_index   = jsondecode(file("${path.module}/lambda_src/ledger_aggregator/hold_item.json")).index.name
  # A UTC day is sealed, and closed, this long after its end: the longest a write can take to reach DynamoDB
  # after its recordedAt, plus the allowance for the index the closer reads (docs/history.md).
  seal_seconds = module.api.integration_timeout_seconds + var.history.index_allowance_seconds
  # Every name that more than one module (or the alarms) needs, computed once here and passed down.
  # A function's execution role has the function's name (modules/function).
  names = {
    api     = "${var.name_prefix}-ledger"
    stream  = { function = "${var.name_prefix}-stream", dlq = "${var.name_prefix}-stream-dlq" }
    buffer  = { function = "${var.name_prefix}-writer", queue = "${var.name_prefix}-buffer", dlq = "${var.name_prefix}-buffer-dlq" }
    events  = "${var.name_prefix}-events"
    closer  = { function = "${var.name_prefix}-closer", dlq = "${var.name_prefix}-closer-dlq", schedule = "${var.name_prefix}-closer" }
    sweeper = { function = "${var.name_prefix}-sweeper", dlq = "${var.name_prefix}-sweeper-dlq", schedule = "${var.name_prefix}-sweeper" }
  }
  # The functions' roles by ARN: the queues name their senders without waiting for the roles (the roles'
  # policies name the queues). tests/terraform/names.tftest.hcl holds them to the roles the modules create.
  role_arn = {
    for function, name in { stream = local.names.stream.function, writer = local.names.buffer.function, closer = local.names.closer.function, sweeper = local.names.sweeper.function } :
    function => "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:role/${name}"
  }
  # The stream function, which the writer's removal guard reads (its pattern, when it last changed).
  stream_function = {
    name = local.names.stream.function
    arn  = "arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:function:${local.names.stream.function}"
  }
  # Pattern 2 sends deltas through the buffer. Pattern 1 keeps it, and the writer drains what it holds,
  # until buffer.retired removes it; the writer's removal guard refuses while a delta could be lost.
  buffer_kept = var.pattern == 2 || !var.buffer.retired
  # Holds (docs/holds.md) are the guard's: guard.holds set, with the guard on.
  holds = try(var.guard.holds, null) != null
  # The sweeper's timeout: below the 60 s guard init lets a new epoch settle before it reads the rows, so
  # that no release of an epoch before is still under way when guard init reads them.
  sweeper_timeout_seconds = 30
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

# Each module takes the root's variables under the root's names; they are validated here, once.
# The tables do not depend on the pattern: switching patterns never replaces or empties them.
module "tables" {
  source      = "./modules/tables"
  name_prefix = var.name_prefix
  holds_index = local.hold_index
  tables      = var.tables
  kms_key_arn = var.kms_key_arn
  tags        = var.tags
}

module "buffer" {
  source      = "./modules/buffer"
  count       = local.buffer_kept ? 1 : 0
  name_prefix = var.name_prefix
  names       = local.names.buffer
  tables      = { summary = module.tables.summary, applied = module.tables.applied }
  function = {
    name            = module.writer_function[0].name
    arn             = module.writer_function[0].arn
    timeout_seconds = module.writer_function[0].timeout_seconds
  }
  buffer = var.buffer
  # Only the stream function (and operators) may send deltas; only operators may send to the DLQ (SQS's
  # redrive needs no permission). The writer parks what it refuses in the stream DLQ, which outlives
  # every pattern switch.
  senders = {
    queue = concat([local.role_arn.stream], var.operator_arns)
    dlq   = var.operator_arns
  }
  poison_dlq      = module.stream.dlq
  stream_function = local.stream_function
  kms_key_arn     = var.kms_key_arn
  tags            = var.tags
}

module "stream" {
  source        = "./modules/stream"
  name_prefix   = var.name_prefix
  names         = local.names.stream
  pattern       = var.pattern
  tables        = { details = module.tables.details, summary = module.tables.summary, applied = module.tables.applied }
  buffer_queue  = var.pattern == 2 ? { url = module.buffer[0].queue.url, arn = module.buffer[0].queue.arn } : null
  function_arn  = module.stream_function.arn
  dlq_senders   = concat([module.stream_function.role_arn], local.buffer_kept ? [local.role_arn.writer] : [])
  stream        = var.stream
  operator_arns = var.operator_arns
  kms_key_arn   = var.kms_key_arn
  tags          = var.tags
}

module "events" {
  source        = "./modules/events"
  count         = var.events == null ? 0 : 1
  name_prefix   = var.name_prefix
  name          = local.names.events
  summary       = module.tables.summary
  history       = module.tables.history
  events        = var.events
  function_arn  = module.events_function[0].arn
  operator_arns = var.operator_arns
  kms_key_arn   = var.kms_key_arn
  tags          = var.tags
}

# The functions, one function module each: the module that uses a function gives it its environment and
# permissions (its function output) and takes its ARN. The writer has its own timeout: it bounds the buffer's
# visibility timeout (validated here: at least 6 x it + the batching window), and with it recovery from a
# crashed writer.
module "stream_function" {
  source      = "./modules/function"
  name        = local.names.stream.function
  description = "Projects the Account Details stream (pattern ${var.pattern})."
  handler     = "ledger_aggregator.handlers.stream.handler"
  package     = local.package
  functions   = var.functions
  environment = module.stream.function.environment
  policy_json = module.stream.function.policy_json
  kms_key_arn = var.kms_key_arn
  tags        = var.tags
}

module "writer_function" {
  source      = "./modules/function"
  count       = local.buffer_kept ? 1 : 0
  name        = local.names.buffer.function
  description = "Applies deltas from the buffer queue to the Account Summary table."
  handler     = "ledger_aggregator.handlers.writer.handler"
  package     = local.package
  functions   = merge(var.functions, { timeout_seconds = var.buffer.writer_timeout_seconds })
  environment = module.buffer[0].function.environment
  policy_json = module.buffer[0].function.policy_json
  kms_key_arn = var.kms_key_arn
  tags        = var.tags
}

module "events_function" {
  source      = "./modules/function"
  count       = var.events == null ? 0 : 1
  name        = local.names.events
  description = "Turns committed summary changes and day closes into balance and day-close events (the Pipes' enrichment)."
  handler     = "ledger_aggregator.handlers.events.handler"
  package     = local.package
  functions   = var.functions
  environment = module.events[0].function.environment
  policy_json = module.events[0].function.policy_json
  kms_key_arn = var.kms_key_arn
  tags        = var.tags
}

# The scheduled closer: a schedule runs the closer function, which writes the day and month closes of every
# (account, currency) up to the last day sealed by seal_seconds (docs/history.md); ledger-ops close runs the
# same code. It is always on: an idle run reads one close per key.
module "closer" {
  source              = "./modules/closer"
  name_prefix         = var.name_prefix
  names               = local.names.closer
  tables              = { details = module.tables.details, summary = module.tables.summary, history = module.tables.history }
  seal_seconds        = local.seal_seconds
  schedule_expression = var.history.schedule
  function            = { name = module.closer_function.name, arn = module.closer_function.arn }
  function_role_arn   = local.role_arn.closer
  operator_arns       = var.operator_arns
  kms_key_arn         = var.kms_key_arn
  tags                = var.tags
}

module "closer_function" {
  source      = "./modules/function"
  name        = local.names.closer.function
  description = "Closes the sealed days and months of every account, on a schedule."
  handler     = "ledger_aggregator.handlers.closer.handler"
  package     = local.package
  # Its own timeout, and no reserved concurrency: one run at a time is the schedule's, and a second is harmless.
  functions   = merge(var.functions, { timeout_seconds = var.history.closer_timeout_seconds, reserved_concurrency = null })
  environment = module.closer.function.environment
  policy_json = module.closer.function.policy_json
  kms_key_arn = var.kms_key_arn
  tags        = var.tags
}

# The holds sweeper, with holds on: a schedule runs the sweeper function, which releases every open hold past
# its expiry (docs/holds.md); ledger-ops holds expire runs the same code. Its refusal fails an apply that
# would switch holds off while a hold is open.
module "sweeper" {
  source      = "./modules/sweeper"
  count       = local.holds ? 1 : 0
  name_prefix = var.name_prefix
  names       = local.names.sweeper
  tables = {
    details  = { name = module.tables.details.name, arn = module.tables.details.arn }
    holds    = module.tables.holds
    balances = module.tables.balances
  }
  guard_epoch         = module.api.guard.epoch
  schedule_expression = var.guard.holds.sweep_schedule
  function            = { name = module.sweeper_function[0].name, arn = module.sweeper_function[0].arn }
  function_role_arn   = local.role_arn.sweeper
  operator_arns       = var.operator_arns
  kms_key_arn         = var.kms_key_arn
  tags                = var.tags
}

module "sweeper_function" {
  source      = "./modules/function"
  count       = local.holds ? 1 : 0
  name        = local.names.sweeper.function
  description = "Releases the open holds past their expiry, on a schedule."
  handler     = "ledger_aggregator.handlers.sweeper.handler"
  package     = local.package
  # Its own timeout, and no reserved concurrency: one run at a time is the schedule's, and a second releases
  # nothing twice (each release is conditional on the hold being open).
  functions   = merge(var.functions, { timeout_seconds = local.sweeper_timeout_seconds, reserved_concurrency = null })
  environment = module.sweeper[0].function.environment
  policy_json = module.sweeper[0].function.policy_json
  kms_key_arn = var.kms_key_arn
  tags        = var.tags
}

module "api" {
  source      = "./modules/api"
  name_prefix = var.name_prefix
  name        = local.names.api
  tables      = { details = module.tables.details, summary = module.tables.summary, balances = module.tables.balances, holds = module.tables.holds, history = module.tables.history }
  guard = var.guard == null ? null : {
    holds = local.holds ? { max_open_per_balance = var.guard.holds.max_open_per_balance, max_expiry_seconds = var.guard.holds.max_expiry_seconds } : null
  }
  api          = var.api
  currencies   = local.currencies
  id_patterns  = { accountId = local.ids.accountId, writeId = local.ids.writeId }
  balance_item = [for a in local.balance_item : { placeholder = a.placeholder, name = a.name, holds = try(a.holds, false) }]
  hold_item    = [for a in local.hold_item : { placeholder = a.placeholder, name = a.name }]
  kms_key_arn  = var.kms_key_arn
  tags         = var.tags
}

module "alarms" {
  source      = "./modules/alarms"
  count       = var.alarms == null ? 0 : 1
  name_prefix = var.name_prefix
  targets = {
    functions          = compact([module.stream_function.name, try(module.writer_function[0].name, ""), module.closer_function.name, try(module.sweeper_function[0].name, "")])
    stream_function    = module.stream_function.name
    dead_letter_queues = compact([module.stream.dlq.name, try(module.buffer[0].dlq.name, ""), try(module.events[0].dlq.name, ""), try(module.events[0].bus_dlq.name, ""), module.closer.dlq.name, try(module.sweeper[0].dlq.name, "")])
    buffer_queue       = try(module.buffer[0].queue.name, null)
    api_name           = local.names.api
    api_stage          = module.api.stage_name
    summary_table      = module.tables.summary.name
    balances_table     = var.guard == null ? null : module.tables.balances.name
    refused_writes     = module.api.refused_writes_metric
    events_pipe        = try(module.events[0].pipe_name, null)
    day_close_pipe     = try(module.events[0].day_close.pipe_name, null)
  }
  alarms = var.alarms
  tags   = var.tags
}

# Allowed only with api.allow_unauthenticated (validated), and still said in every plan.
check "api_is_authenticated" {
  assert {
    condition     = var.api.authorization != "NONE"
    error_message = "api.authorization is NONE: anyone who can reach the API may read and move the money of every account."
  }
}

# Off until chosen: a fresh account has no API Gateway CloudWatch role, and a stage that logs without it is
# refused. Every plan says so until api.access_log is set (true or false) or the role is created here.
check "api_access_log" {
  assert {
    condition     = var.api.access_log != null || var.api.create_logging_role
    error_message = "api.access_log is not set, so the stage writes no access log${var.guard != null ? " and refused writes have no alarm" : ""}: set it to true if the account has API Gateway's CloudWatch role (or api.create_logging_role = true to create it), or to false to go without."
  }
}
