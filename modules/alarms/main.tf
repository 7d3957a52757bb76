# CloudWatch alarms on what needs a person: a message in a DLQ, function errors and throttles, the
# stream's iterator age, the buffer queue's oldest message, API 5xx and p99 latency, throttled
# summary writes, and with the balance guard the balance items' transaction conflicts and throttling and
# the refused money writes;
# each notifies the topic given, or an encrypted one created here (topic.tf).

locals {
  # Alarms always reach a topic: the one given, or one created here (topic.tf).
  topic_arn = var.alarms.topic_arn != null ? var.alarms.topic_arn : aws_sns_topic.this[0].arn
  actions   = [local.topic_arn]
  t         = var.targets

  alarms = merge(
    { for q in local.t.dead_letter_queues : "dlq-${q}" => {
      description = "A message is waiting in ${q}: a record or delta could not be processed."
      namespace   = "AWS/SQS", metric = "ApproximateNumberOfMessagesVisible", statistic = "Maximum"
      dimensions  = { QueueName = q }, threshold = 0, extended = null
    } },
    { for f in local.t.functions : "errors-${f}" => {
      description = "${f} failed invocations."
      namespace   = "AWS/Lambda", metric = "Errors", statistic = "Sum"
      dimensions  = { FunctionName = f }, threshold = 0, extended = null
    } },
    { for f in local.t.functions : "throttles-${f}" => {
      description = "${f} was throttled."
      namespace   = "AWS/Lambda", metric = "Throttles", statistic = "Sum"
      dimensions  = { FunctionName = f }, threshold = 0, extended = null
    } },
    {
      "iterator-age" = {
        description = "The stream function is falling behind the details stream."
        namespace   = "AWS/Lambda", metric = "IteratorAge", statistic = "Maximum"
        dimensions  = { FunctionName = local.t.stream_function }, threshold = var.alarms.iterator_age_ms, extended = null
      }
      "api-5xx" = {
        description = "The API answered with a 5xx."
        namespace   = "AWS/ApiGateway", metric = "5XXError", statistic = "Sum"
        dimensions  = { ApiName = local.t.api_name, Stage = local.t.api_stage }, threshold = 0, extended = null
      }
      "api-latency" = {
        description = "API p99 latency is high."
        namespace   = "AWS/ApiGateway", metric = "Latency", statistic = null
        dimensions  = { ApiName = local.t.api_name, Stage = local.t.api_stage }, threshold = var.alarms.api_latency_p99_ms, extended = "p99"
      }
      "summary-throttled-writes" = {
        description = "Writes to the summary table were throttled (expected under a burst; pattern 2 absorbs it)."
        namespace   = "AWS/DynamoDB", metric = "WriteThrottleEvents", statistic = "Sum"
        dimensions  = { TableName = local.t.summary_table }, threshold = 0, extended = null
      }
    },
    local.t.balances_table == null ? {} : {
      # DynamoDB cancels a transaction on an item another is writing: a few on a hot account are expected
      # (the API answers 429 and the client retries); many mean that account needs another design.
      "balance-conflicts" = {
        description = "Guarded writes were cancelled by transaction conflicts on balance items (hot accounts)."
        namespace   = "AWS/DynamoDB", metric = "TransactionConflict", statistic = "Sum"
        dimensions  = { TableName = local.t.balances_table }, threshold = var.alarms.guard_conflicts_per_minute, extended = null
      }
      # DynamoDB publishes ThrottledRequests only per {TableName, Operation}, never per table alone; a throttled
      # write event is counted per table, whatever the operation (the API's TransactWriteItems and UpdateItem).
      "balance-throttled-writes" = {
        description = "Writes to the balances table were throttled: guarded writes were answered 429."
        namespace   = "AWS/DynamoDB", metric = "WriteThrottleEvents", statistic = "Sum"
        dimensions  = { TableName = local.t.balances_table }, threshold = 0, extended = null
      }
    },
    local.t.refused_writes == null ? {} : {
      # Refused debits, from the API's access log (modules/api): a burst means a client spends past its
      # funds (or reuses ids), or an operator lowered limits.
      "refused-writes" = {
        description = "Money writes were refused with 422: debits or transfers past the floor, or ids reused."
        namespace   = local.t.refused_writes.namespace, metric = local.t.refused_writes.metric, statistic = "Sum"
        dimensions  = local.t.refused_writes.dimensions, threshold = var.alarms.refused_writes_per_minute, extended = null
      }
    },
    local.t.events_pipe == null ? {} : {
      # A batch the Pipe could not deliver (after its retries it goes to the events DLQ, alarmed too).
      "events-failed" = {
        description = "The balance events' Pipe failed executions: events are late or parked in its DLQ."
        namespace   = "AWS/EventBridge/Pipes", metric = "ExecutionFailed", statistic = "Sum"
        dimensions  = { PipeName = local.t.events_pipe }, threshold = 0, extended = null
      }
    },
    local.t.day_close_pipe == null ? {} : {
      # The same for the day-close events' Pipe (the same DLQ).
      "day-close-events-failed" = {
        description = "The day-close events' Pipe failed executions: day-close events are late or parked in the events DLQ."
        namespace   = "AWS/EventBridge/Pipes", metric = "ExecutionFailed", statistic = "Sum"
        dimensions  = { PipeName = local.t.day_close_pipe }, threshold = 0, extended = null
      }
    },
    local.t.buffer_queue == null ? {} : {
      "buffer-age" = {
        description = "Deltas wait too long in the buffer queue."
        namespace   = "AWS/SQS", metric = "ApproximateAgeOfOldestMessage", statistic = "Maximum"
        dimensions  = { QueueName = local.t.buffer_queue }, threshold = var.alarms.queue_age_seconds, extended = null
      }
    },
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each            = local.alarms
  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  statistic           = each.value.statistic
  extended_statistic  = each.value.extended
  dimensions          = each.value.dimensions
  period              = 60
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}
