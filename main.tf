locals {
  package = {
    path   = var.lambda_zip
    sha256 = filebase64sha256(var.lambda_zip)
  }
  function = {
    runtime              = var.functions.runtime
    architecture         = var.functions.architecture
    memory_mb            = var.functions.memory_mb
    timeout_seconds      = var.functions.timeout_seconds
    reserved_concurrency = var.functions.reserved_concurrency
    log_retention_days   = var.functions.log_retention_days
    tracing              = var.functions.tracing
  }
  marker_ttl_seconds = var.functions.marker_ttl_days * 86400
  # The one list of currencies: ISO 4217 codes and minor units, also read by the aggregator and the tests.
  currencies = jsondecode(file("${path.module}/lambda_src/ledger_aggregator/currencies.json")).minorUnits
  # The functions' roles, named "<name_prefix>-stream" and "<name_prefix>-writer" by their modules: the
  # queues name their senders without waiting for the roles (the roles' policies name the queues).
  role_arn = {
    for function in ["stream", "writer"] :
    function => "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:role/${var.name_prefix}-${function}"
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

# The tables do not depend on the pattern: switching patterns never replaces or empties them.
module "tables" {
  source      = "./modules/tables"
  name_prefix = var.name_prefix
  kms_key_arn = var.kms_key_arn
  details = {
    deletion_protection    = var.tables.details_deletion_protection
    point_in_time_recovery = var.tables.point_in_time_recovery
  }
  summary = {
    deletion_protection    = var.tables.summary_deletion_protection
    billing_mode           = var.tables.summary_billing_mode
    read_capacity          = var.tables.summary_read_capacity
    write_capacity         = var.tables.summary_write_capacity
    point_in_time_recovery = var.tables.point_in_time_recovery
  }
  applied = {
    deletion_protection = var.tables.applied_deletion_protection
  }
  tags = var.tags
}

module "buffer" {
  source      = "./modules/buffer"
  count       = var.pattern == 2 ? 1 : 0
  name_prefix = var.name_prefix
  tables      = { summary = module.tables.summary, applied = module.tables.applied }
  package     = local.package
  # The writer has its own timeout: it bounds the visibility timeout, and with it recovery from a crash.
  function = merge(local.function, { timeout_seconds = var.buffer.writer_timeout_seconds })
  queue    = var.buffer
  # Only the stream function (and operators) may send deltas, only the writer (parking what it refuses)
  # and operators may send to the DLQ.
  senders = {
    queue = concat([local.role_arn.stream], var.operator_arns)
    dlq   = concat([local.role_arn.writer], var.operator_arns)
  }
  marker_ttl_seconds = local.marker_ttl_seconds
  kms_key_arn        = var.kms_key_arn
  tags               = var.tags
}

module "aggregator" {
  source             = "./modules/aggregator"
  name_prefix        = var.name_prefix
  pattern            = var.pattern
  tables             = { details = module.tables.details, summary = module.tables.summary, applied = module.tables.applied }
  buffer_queue       = try({ url = module.buffer[0].queue.url, arn = module.buffer[0].queue.arn }, null)
  package            = local.package
  function           = local.function
  stream             = var.stream
  queue_senders      = var.operator_arns
  marker_ttl_seconds = local.marker_ttl_seconds
  kms_key_arn        = var.kms_key_arn
  tags               = var.tags
}

module "api" {
  source      = "./modules/api"
  name_prefix = var.name_prefix
  tables      = { details = module.tables.details, summary = module.tables.summary }
  settings    = var.api
  currencies  = local.currencies
  kms_key_arn = var.kms_key_arn
  tags        = var.tags
}

module "alarms" {
  source      = "./modules/alarms"
  count       = var.alarms == null ? 0 : 1
  name_prefix = var.name_prefix
  targets = {
    functions          = compact([module.aggregator.function_name, try(module.buffer[0].function_name, "")])
    stream_function    = module.aggregator.function_name
    dead_letter_queues = compact([module.aggregator.dlq.name, try(module.buffer[0].dlq.name, "")])
    buffer_queue       = try(module.buffer[0].queue.name, null)
    api_name           = "${var.name_prefix}-ledger"
    api_stage          = module.api.stage_name
    summary_table      = module.tables.summary.name
  }
  thresholds = {
    iterator_age_ms    = var.alarms.iterator_age_ms
    queue_age_seconds  = var.alarms.queue_age_seconds
    api_latency_p99_ms = var.alarms.api_latency_p99_ms
  }
  topic_arn = var.alarms.topic_arn
  emails    = var.alarms.emails
  tags      = var.tags
}

# Allowed only with api.allow_unauthenticated (validated), and still said in every plan.
check "api_is_authenticated" {
  assert {
    condition     = var.api.authorization != "NONE"
    error_message = "api.authorization is NONE: anyone who can reach the API may read and move the money of every account."
  }
}
