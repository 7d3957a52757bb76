# A function run on a schedule: an EventBridge Scheduler schedule invokes it asynchronously
# (https://docs.aws.amazon.com/lambda/latest/dg/with-eventbridge-scheduler.html), with its own execution role.
# A run that fails is not retried by Lambda, since the next scheduled run is its retry, and its record, with
# the error, goes to the dead-letter queue (the function's on-failure destination). So does an invocation
# the scheduler could not make after its retries. The closer and the holds sweeper each use it; the module
# that uses it gives the function its own permissions.

locals {
  # The scheduler assumes the role with the schedule's group as aws:SourceArn, never the schedule itself
  # (https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html).
  schedule_group_arn = "arn:${data.aws_partition.current.partition}:scheduler:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:schedule-group/default"
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

# The function (failed runs, as its on-failure destination), the schedule (invocations it could not make)
# and operators may send to it.
module "dlq_policy" {
  source     = "../queue_policy"
  queue_name = var.names.dlq
  senders    = concat([var.function_role_arn, aws_iam_role.scheduler.arn], var.operator_arns)
}

resource "aws_sqs_queue" "dlq" {
  name                      = var.names.dlq
  policy                    = module.dlq_policy.json
  message_retention_seconds = 1209600
  kms_master_key_id         = var.kms_key_arn
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  tags                      = var.tags
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = var.function.name
  maximum_retry_attempts       = 0 # the next scheduled run is the retry
  maximum_event_age_in_seconds = var.event_age_seconds
  destination_config {
    on_failure {
      destination = aws_sqs_queue.dlq.arn
    }
  }
}

resource "aws_scheduler_schedule" "this" {
  name                         = var.names.schedule
  group_name                   = "default"
  description                  = var.description
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = "UTC"
  state                        = "ENABLED"
  kms_key_arn                  = var.kms_key_arn
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = var.function.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ source = "schedule" })
    retry_policy {
      maximum_retry_attempts       = 3
      maximum_event_age_in_seconds = var.event_age_seconds
    }
    dead_letter_config {
      arn = aws_sqs_queue.dlq.arn
    }
  }
  # The schedule's first run needs the failure destination in place.
  depends_on = [aws_lambda_function_event_invoke_config.this, aws_iam_role_policy.scheduler]
}
