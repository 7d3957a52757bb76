# Balance events off (the default) and on, with a mocked provider (no AWS): switching them on adds the
# Pipe, the bus and the events DLQ, and replaces no table; the summary table's stream is on whatever
# events says, so that no Pipe ever reads a disabled stream (AWS cannot stop, start or update such a pipe,
# and a re-enabled stream is a new one: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-dynamodb.html)
# and off, on, off, on again always reads the same stream. The Pipe reads the summary stream, keeps the
# money writes only, enriches and publishes with the documented names, and its role may do that and
# nothing else. The day-close events' Pipe comes and goes with the feed; the history table's stream is on
# whatever events says, for the same reasons, and the Pipe reads it, keeps the inserts of day closes only
# (not months, not a key's first-row item), and publishes them with the documented names.

mock_provider "aws" {
  source = "./tests/terraform"
}

variables {
  name_prefix = "tftest"
  lambda_zip  = "tests/terraform/fixtures/lambda.zip"
  # The account has API Gateway's CloudWatch role (logging.tftest.hcl tests the default, without it).
  api = { access_log = true }
  # The history table, for the runs of modules/events alone (the root's runs do not declare it).
  history = {
    name       = "h"
    arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/h"
    stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/h/stream/2026-01-01T00:00:00.000"
  }
  # Every sort key a close item can have: each day of a leap year and of a common one (and the days 29 to
  # 31 of every month, which the filter need not tell apart from real days), each month of a century, and
  # a key's first-row item.
  close_days   = flatten([for year in [2027, 2028] : [for month in range(1, 13) : [for day in range(1, 32) : format("EUR#%d-%02d-%02d", year, month, day)]]])
  close_months = flatten([for year in range(2000, 2100) : [for month in range(1, 13) : format("EUR#%d-%02d", year, month)]])
}

run "events_off_by_default" {
  command = apply
  assert {
    condition     = output.events == null && length(module.events) == 0
    error_message = "without events there is no Pipe and no bus"
  }
  assert {
    condition     = module.tables.summary.stream_arn != null
    error_message = "the summary table's stream is on without events too: turning events off or on never disables or re-enables it"
  }
  assert {
    condition     = !contains(output.alarm_names, "tftest-events-failed") && !contains(output.alarm_names, "tftest-day-close-events-failed")
    error_message = "without events there is no events alarm"
  }
  assert {
    condition     = module.tables.history.stream_arn != null && output.history_table.stream_arn == module.tables.history.stream_arn
    error_message = "the history table's stream is on without events too, and an output: turning events off or on never disables or re-enables it"
  }
}

run "events_on_add_the_feed_and_replace_no_table" {
  command = apply
  variables {
    events = {}
  }
  assert {
    condition = (
      output.details_table == run.events_off_by_default.details_table &&
      output.summary_table == run.events_off_by_default.summary_table &&
      output.applied_table == run.events_off_by_default.applied_table &&
      output.history_table == run.events_off_by_default.history_table &&
      output.details_stream_arn == run.events_off_by_default.details_stream_arn
    )
    error_message = "switching events on must not replace any table nor touch the summary or history streams"
  }
  assert {
    condition     = output.events.day_close.pipe_name == "${local.names.events}-day-closes" && output.events.day_close.event.source == "cqrs-ledger" && output.events.day_close.event.detail_type == "Day Closed"
    error_message = "the day-close events have their Pipe, and the documented source and detail-type"
  }
  assert {
    condition     = contains(output.alarm_names, "tftest-day-close-events-failed")
    error_message = "the day-close events' Pipe's failures have an alarm"
  }
  assert {
    condition     = output.events.bus.name == "tftest-ledger-events" && output.events.event.source == "cqrs-ledger" && output.events.event.detail_type == "Balance Changed"
    error_message = "the events go to a bus of the deployment, with the documented source and detail-type"
  }
  assert {
    condition     = output.events.function_name == local.names.events && output.events.pipe_name == local.names.events && module.events_function[0].name == local.names.events
    error_message = "the Pipe and its enrichment function have the name the root computes"
  }
  assert {
    condition     = contains(output.alarm_names, "tftest-events-failed") && contains(output.alarm_names, "tftest-dlq-${output.events.dlq.name}")
    error_message = "the Pipe's failures and its dead-letter queue have alarms"
  }
}

run "events_off_again_keep_the_summary_table_and_its_stream" {
  command = apply
  assert {
    condition     = output.summary_table == run.events_off_by_default.summary_table && output.history_table == run.events_off_by_default.history_table && output.events == null
    error_message = "switching events off removes the feed and keeps the summary and history tables and their streams"
  }
}

run "events_on_again_read_the_same_stream" {
  command = apply
  variables {
    events = {}
  }
  assert {
    condition     = output.summary_table == run.events_off_by_default.summary_table && output.history_table == run.events_off_by_default.history_table && output.events != null
    error_message = "events on again: the new Pipes read the same streams, which kept every change and close made while events were off"
  }
}

run "the_pipe_reads_the_summary_stream_and_publishes_money_changes_only" {
  command = plan
  module {
    source = "./modules/events"
  }
  variables {
    summary = {
      name       = "s"
      arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/s"
      stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/s/stream/2026-01-01T00:00:00.000"
    }
    name         = "tftest-events"
    events       = { bus_name = null, batch_size = 25, retry_attempts = 4 }
    function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:tftest-events"
  }
  assert {
    condition = (
      aws_pipes_pipe.this.source == var.summary.stream_arn &&
      aws_pipes_pipe.this.source_parameters[0].dynamodb_stream_parameters[0].batch_size == 25 &&
      aws_pipes_pipe.this.source_parameters[0].dynamodb_stream_parameters[0].maximum_retry_attempts == 4 &&
      aws_pipes_pipe.this.source_parameters[0].dynamodb_stream_parameters[0].parallelization_factor == 1 &&
      aws_pipes_pipe.this.source_parameters[0].dynamodb_stream_parameters[0].starting_position == "TRIM_HORIZON"
    )
    error_message = "the Pipe reads the summary stream from its start, one batch per shard at a time, as configured"
  }
  assert {
    condition     = jsondecode(one(one(aws_pipes_pipe.this.source_parameters[0].filter_criteria).filter).pattern) == { eventName = ["INSERT", "MODIFY"], dynamodb = { NewImage = { revision = { N = [{ exists = true }] } } } }
    error_message = "only inserts and modifications whose new image holds a revision (money writes) pass the filter"
  }
  assert {
    condition = (
      aws_pipes_pipe.this.target_parameters[0].eventbridge_event_bus_parameters[0].source == "cqrs-ledger" &&
      aws_pipes_pipe.this.target_parameters[0].eventbridge_event_bus_parameters[0].detail_type == "Balance Changed" &&
      aws_pipes_pipe.this.enrichment == var.function_arn && aws_pipes_pipe.this.name == "tftest-events"
    )
    error_message = "the Pipe enriches with the events function and publishes with the documented names"
  }
  assert {
    condition = jsonencode(sort([for s in data.aws_iam_policy_document.pipe.statement : "${s.sid}:${join(",", sort(s.actions))}"])) == jsonencode(sort([
      "ReadSummaryStream:dynamodb:DescribeStream,dynamodb:GetRecords,dynamodb:GetShardIterator",
      "ListSummaryStreams:dynamodb:ListStreams",
      "ReadHistoryStream:dynamodb:DescribeStream,dynamodb:GetRecords,dynamodb:GetShardIterator",
      "ListHistoryStreams:dynamodb:ListStreams",
      "Enrich:lambda:InvokeFunction",
      "PublishEvents:events:PutEvents",
      "ParkFailures:sqs:SendMessage",
    ]))
    error_message = "the Pipes' role reads the two streams, invokes the enrichment, puts events and parks failures: nothing else"
  }
  assert {
    condition     = one([for s in data.aws_iam_policy_document.pipe.statement : s.resources if s.sid == "ReadSummaryStream"]) == toset([var.summary.stream_arn])
    error_message = "the Pipe's role reads the summary stream only"
  }
  assert {
    condition = (
      one([for s in data.aws_iam_policy_document.pipe.statement : s.resources if s.sid == "ReadHistoryStream"]) == toset([var.history.stream_arn]) &&
      one([for s in data.aws_iam_policy_document.pipe.statement : s.resources if s.sid == "ListHistoryStreams"]) == toset(["${var.history.arn}/stream/*"])
    )
    error_message = "the role reads the history table's stream and lists that table's streams: nothing else of it"
  }
  assert {
    condition     = length(aws_cloudwatch_event_bus.this) == 1 && length(data.aws_cloudwatch_event_bus.given) == 0
    error_message = "without a bus name, the module creates the bus"
  }
}

run "a_named_bus_is_used_not_created" {
  command = plan
  module {
    source = "./modules/events"
  }
  variables {
    summary = {
      name       = "s"
      arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/s"
      stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/s/stream/2026-01-01T00:00:00.000"
    }
    events       = { bus_name = "shared-bus", batch_size = 10, retry_attempts = 10 }
    name         = "tftest-events"
    function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:tftest-events"
  }
  assert {
    condition     = length(aws_cloudwatch_event_bus.this) == 0 && output.bus.name == "shared-bus"
    error_message = "a named bus is published to, not created"
  }
}

run "events_batch_size_is_validated" {
  command = plan
  variables {
    events = { batch_size = 0 }
  }
  expect_failures = [var.events]
}

run "events_batch_size_above_what_an_event_bus_target_takes_is_refused" {
  command = plan
  variables {
    events = { batch_size = 11 }
  }
  expect_failures = [var.events]
}

run "a_customer_managed_key_gives_the_bus_a_dead_letter_queue" {
  command = plan
  module {
    source = "./modules/events"
  }
  variables {
    summary = {
      name       = "s"
      arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/s"
      stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/s/stream/2026-01-01T00:00:00.000"
    }
    events       = { bus_name = null, batch_size = 10, retry_attempts = 10 }
    name         = "tftest-events"
    function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:tftest-events"
    kms_key_arn  = "arn:aws:kms:eu-west-1:123456789012:key/ledger"
  }
  assert {
    condition     = length(aws_cloudwatch_event_bus.this[0].dead_letter_config) == 1
    error_message = "a bus encrypted with a customer managed key has a dead-letter queue for the events it cannot encrypt or decrypt"
  }
  assert {
    condition     = aws_sqs_queue.bus_dlq[0].kms_master_key_id == var.kms_key_arn && aws_sqs_queue.bus_dlq[0].name == "tftest-events-bus-dlq"
    error_message = "the bus's dead-letter queue is encrypted with the same key"
  }
  assert {
    condition     = local.created_bus_arn == "arn:aws:events:eu-west-1:123456789012:event-bus/tftest-ledger-events"
    error_message = "the queue's policy names the bus by the ARN it will have"
  }
}

run "no_bus_dead_letter_queue_for_a_bus_given_by_name" {
  command = plan
  module {
    source = "./modules/events"
  }
  variables {
    summary = {
      name       = "s"
      arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/s"
      stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/s/stream/2026-01-01T00:00:00.000"
    }
    events       = { bus_name = "shared-bus", batch_size = 10, retry_attempts = 10 }
    name         = "tftest-events"
    function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:tftest-events"
    # A key, but the bus is given by name: its owner configures it.
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/ledger"
  }
  assert {
    condition     = length(aws_sqs_queue.bus_dlq) == 0 && output.bus_dlq == null
    error_message = "a bus given by name is its owner's to configure"
  }
}

run "without_a_key_the_bus_dead_letter_queue_is_encrypted_by_sqs" {
  command = plan
  module {
    source = "./modules/events"
  }
  variables {
    summary = {
      name       = "s"
      arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/s"
      stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/s/stream/2026-01-01T00:00:00.000"
    }
    events       = { bus_name = null, batch_size = 10, retry_attempts = 10 }
    name         = "tftest-events"
    function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:tftest-events"
  }
  assert {
    condition     = length(aws_cloudwatch_event_bus.this[0].dead_letter_config) == 1 && aws_sqs_queue.bus_dlq[0].sqs_managed_sse_enabled
    error_message = "a created bus has its dead-letter queue whether a key is given or not (a count must be known at plan)"
  }
}

run "the_bus_dead_letter_queue_is_an_output_and_has_an_alarm" {
  command = apply
  variables {
    events      = {}
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/ledger"
  }
  assert {
    condition     = output.events.bus_dlq.name == "tftest-events-bus-dlq" && contains(output.alarm_names, "tftest-dlq-tftest-events-bus-dlq")
    error_message = "what the bus parks is alarmed, as every dead-letter queue is"
  }
}

run "the_day_close_pipe_reads_the_history_stream_and_publishes_day_closes_only" {
  command = apply
  module {
    source = "./modules/events"
  }
  variables {
    summary = {
      name       = "s"
      arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/s"
      stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/s/stream/2026-01-01T00:00:00.000"
    }
    name         = "tftest-events"
    events       = { bus_name = null, batch_size = 7, retry_attempts = 4 }
    function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:tftest-events"
  }
  assert {
    condition = (
      aws_pipes_pipe.day_closes.source == var.history.stream_arn &&
      aws_pipes_pipe.day_closes.name == "tftest-events-day-closes" && output.day_close.pipe_name == "tftest-events-day-closes" &&
      aws_pipes_pipe.day_closes.role_arn == aws_iam_role.pipe.arn && # the role the events DLQ's policy lets send
      aws_pipes_pipe.day_closes.source_parameters[0].dynamodb_stream_parameters[0].starting_position == "TRIM_HORIZON" &&
      aws_pipes_pipe.day_closes.source_parameters[0].dynamodb_stream_parameters[0].batch_size == 7 &&
      aws_pipes_pipe.day_closes.source_parameters[0].dynamodb_stream_parameters[0].maximum_retry_attempts == 4 &&
      aws_pipes_pipe.day_closes.source_parameters[0].dynamodb_stream_parameters[0].on_partial_batch_item_failure == "AUTOMATIC_BISECT" &&
      aws_pipes_pipe.day_closes.source_parameters[0].dynamodb_stream_parameters[0].dead_letter_config[0].arn == aws_sqs_queue.dlq.arn
    )
    error_message = "the day-close Pipe reads the history stream from its start, retries and bisects as configured, and parks in the events DLQ"
  }
  assert {
    condition = (
      aws_pipes_pipe.day_closes.enrichment == var.function_arn && aws_pipes_pipe.day_closes.target == local.bus_arn &&
      aws_pipes_pipe.day_closes.target_parameters[0].eventbridge_event_bus_parameters[0].source == "cqrs-ledger" &&
      aws_pipes_pipe.day_closes.target_parameters[0].eventbridge_event_bus_parameters[0].detail_type == "Day Closed" &&
      output.day_close.event == { source = "cqrs-ledger", detail_type = "Day Closed" }
    )
    error_message = "the day-close Pipe enriches with the events function and publishes on the same bus with the documented names"
  }
  assert {
    condition     = output.function.environment.HISTORY_TABLE_ARN == var.history.arn
    error_message = "the enrichment knows the history table, whose stream's records are day closes"
  }
}

run "the_day_close_filter_passes_inserts_of_day_closes_and_no_month_or_first_row_item" {
  command = plan
  module {
    source = "./modules/events"
  }
  variables {
    summary = {
      name       = "s"
      arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/s"
      stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/s/stream/2026-01-01T00:00:00.000"
    }
    name         = "tftest-events"
    events       = { bus_name = null, batch_size = 10, retry_attempts = 10 }
    function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:tftest-events"
  }
  assert {
    condition = (
      jsondecode(one(one(aws_pipes_pipe.day_closes.source_parameters[0].filter_criteria).filter).pattern) == local.day_close.filter &&
      local.day_close.filter.eventName == ["INSERT"] && keys(local.day_close.filter.dynamodb) == ["Keys"]
    )
    error_message = "the filter passes inserts only, on the close's sort key"
  }
  assert {
    condition     = alltrue([for period in var.close_days : anytrue([for s in local.day_close.filter.dynamodb.Keys.period.S : endswith(period, s.suffix)])])
    error_message = "every day close passes the filter"
  }
  assert {
    condition     = !anytrue([for period in concat(var.close_months, ["EUR#"]) : anytrue([for s in local.day_close.filter.dynamodb.Keys.period.S : endswith(period, s.suffix)])])
    error_message = "no month close, and no key's first-row item, passes the filter"
  }
  assert {
    condition     = alltrue([for s in local.day_close.filter.dynamodb.Keys.period.S : keys(s) == ["suffix"]]) && length(local.day_close.filter.dynamodb.Keys.period.S) == 163
    error_message = "suffixes only: a Pipe's filter takes no wildcard (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html)"
  }
  assert {
    condition     = length(one(one(aws_pipes_pipe.day_closes.source_parameters[0].filter_criteria).filter).pattern) <= 4096
    error_message = "a Pipe's filter pattern holds at most 4,096 characters (https://docs.aws.amazon.com/eventbridge/latest/pipes-reference/API_Filter.html)"
  }
}
