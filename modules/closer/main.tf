# The scheduled closer (docs/history.md): an EventBridge Scheduler schedule (the schedule module) invokes
# the closer function, which writes the day and month closes of every (account, currency) up to the last
# sealed day. A run that fails (a close that differs, a key that failed) is not retried by Lambda, since the
# next scheduled run is its retry, and its record, with the error, goes to the dead-letter queue. The root
# creates the function with the function module, from this module's function output.

locals {
  environment = {
    DETAILS_TABLE                = var.tables.details.name
    DETAILS_INDEX                = var.tables.details.index_name
    SUMMARY_TABLE                = var.tables.summary.name
    HISTORY_TABLE                = var.tables.history.name
    SEAL_SECONDS                 = tostring(var.seal_seconds)
    POWERTOOLS_SERVICE_NAME      = var.names.function
    POWERTOOLS_METRICS_NAMESPACE = var.name_prefix
  }
}

module "schedule" {
  source              = "../schedule"
  names               = { schedule = var.names.schedule, dlq = var.names.dlq }
  description         = "Closes the sealed days and months of every account (docs/history.md)."
  schedule_expression = var.schedule_expression
  # A run's record older than this is dropped: the next run (hourly by default) does its work.
  event_age_seconds = 3600
  function          = var.function
  function_role_arn = var.function_role_arn
  operator_arns     = var.operator_arns
  kms_key_arn       = var.kms_key_arn
  tags              = var.tags
}

# Before the schedule module served both scheduled functions, the closer kept these itself.
moved {
  from = aws_sqs_queue.dlq
  to   = module.schedule.aws_sqs_queue.dlq
}

moved {
  from = module.dlq_policy
  to   = module.schedule.module.dlq_policy
}

moved {
  from = aws_lambda_function_event_invoke_config.this
  to   = module.schedule.aws_lambda_function_event_invoke_config.this
}

moved {
  from = aws_scheduler_schedule.this
  to   = module.schedule.aws_scheduler_schedule.this
}

moved {
  from = aws_iam_role.scheduler
  to   = module.schedule.aws_iam_role.scheduler
}

moved {
  from = aws_iam_role_policy.scheduler
  to   = module.schedule.aws_iam_role_policy.scheduler
}
