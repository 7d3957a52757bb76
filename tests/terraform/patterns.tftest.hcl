# Pattern 1 against pattern 2, and switching between them, with a mocked provider (no AWS).

mock_provider "aws" {
  source = "./tests/terraform"
}

variables {
  name_prefix = "tftest"
  lambda_zip  = "tests/terraform/fixtures/lambda.zip"
  # The account has API Gateway's CloudWatch role (logging.tftest.hcl tests the default, without it).
  api = { access_log = true }
}

# A stack that starts in pattern 1 and never had a buffer retires it from the start.
run "pattern_1" {
  variables {
    pattern = 1
    buffer  = { retired = true }
  }

  assert {
    condition     = length(module.buffer) == 0
    error_message = "pattern 1 with buffer.retired has no buffer queue, DLQ or writer"
  }
  assert {
    condition     = output.buffer_queue_url == null && output.buffer_dlq_url == null && output.writer_function_name == null
    error_message = "pattern 1 outputs for the buffer must be null once it is retired"
  }
  assert {
    condition     = module.stream_function.name == "tftest-stream" && output.stream_dlq_url != null && module.stream.publishes_to == null
    error_message = "the stream function and its DLQ exist in pattern 1, and it publishes nothing"
  }
  assert {
    condition     = output.details_table.name == "tftest-account-details" && output.summary_table.name == "tftest-account-summary"
    error_message = "table names come from name_prefix"
  }
  assert {
    condition     = length(output.alarm_names) == 10
    error_message = "pattern 1 has 10 alarms: its DLQ, errors and throttles of the stream function, iterator age, API 5xx and latency, summary throttling, and the closer's errors, throttles and DLQ"
  }
}

# Mocked, so only what the configuration decides can differ. The replacement check against a real
# provider plan (terraform show -json, no delete action on a table) is in tests/integration.
run "switch_to_pattern_2" {
  variables {
    pattern = 2
  }

  assert {
    condition     = output.details_table == run.pattern_1.details_table && output.details_stream_arn == run.pattern_1.details_stream_arn
    error_message = "switching to pattern 2 must not change the details table"
  }
  assert {
    condition     = output.summary_table == run.pattern_1.summary_table && output.applied_table == run.pattern_1.applied_table
    error_message = "switching to pattern 2 must not change the summary or applied table"
  }
  assert {
    condition     = output.stream_dlq_url == run.pattern_1.stream_dlq_url
    error_message = "switching patterns keeps the stream DLQ (and what it holds)"
  }
  assert {
    condition     = length(module.buffer) == 1 && module.stream.publishes_to == module.buffer[0].queue.url
    error_message = "pattern 2 adds the buffer, and the stream function publishes to it"
  }
}

run "pattern_2" {
  variables {
    pattern = 2
  }

  assert {
    condition     = output.details_table == run.pattern_1.details_table && output.summary_table == run.pattern_1.summary_table && output.applied_table == run.pattern_1.applied_table
    error_message = "tables are identical in both patterns"
  }
  assert {
    condition     = output.buffer_queue_url != null && output.buffer_dlq_url != null && output.writer_function_name == "tftest-writer"
    error_message = "pattern 2 has the buffer queue, its DLQ and the writer"
  }
  assert {
    condition     = module.buffer[0].queue.name == "tftest-buffer" && module.buffer[0].dlq.name == "tftest-buffer-dlq"
    error_message = "buffer queue names come from name_prefix"
  }
  assert {
    condition     = module.buffer[0].redelivery == { writer_timeout_seconds = 5, visibility_timeout_seconds = 31, backoff_max_seconds = 25, max_receive_count = 23 }
    error_message = "By default a crashed writer's messages come back within a minute, and a failed message backs off up to 45 s over 15 receives."
  }
  assert {
    condition     = length(output.alarm_names) == 14
    error_message = "pattern 2 adds the writer's errors and throttles, its DLQ and the queue age"
  }
  assert {
    condition     = module.buffer[0].parks_in == output.stream_dlq_url
    error_message = "the writer parks what it refuses in the stream DLQ, which outlives every pattern switch"
  }
  assert {
    condition = module.buffer[0].removal_guard == {
      lifecycle_scope = "CRUD"
      input = {
        ledgerGuard = "buffer-removal", check = true, streamFunction = "tftest-stream"
        queueUrls   = [module.buffer[0].queue.url, module.buffer[0].dlq.url]
      }
    }
    error_message = "the writer is asked before the buffer is deleted, and counts both queues"
  }
}

# Reviewed finding: switching from 2 to 1 deleted the queues, with the deltas published during the apply.
run "back_to_pattern_1_keeps_the_buffer_draining" {
  variables {
    pattern = 1
  }

  assert {
    condition     = output.details_table == run.pattern_2.details_table && output.summary_table == run.pattern_2.summary_table && output.applied_table == run.pattern_2.applied_table
    error_message = "switching back to pattern 1 must not change a table"
  }
  assert {
    condition     = length(module.buffer) == 1 && output.buffer_queue_url == run.pattern_2.buffer_queue_url && output.buffer_dlq_url == run.pattern_2.buffer_dlq_url
    error_message = "pattern 1 keeps the buffer's queues and writer, which drain what they hold"
  }
  assert {
    condition     = module.stream.publishes_to == null
    error_message = "in pattern 1 the stream function publishes nothing"
  }
}

run "retiring_the_buffer_removes_it" {
  variables {
    pattern = 1
    buffer  = { retired = true }
  }

  assert {
    condition     = length(module.buffer) == 0 && output.buffer_queue_url == null
    error_message = "buffer.retired removes the queues and the writer (the writer's guard decides when, on AWS)"
  }
  assert {
    condition     = output.stream_dlq_url == run.pattern_2.stream_dlq_url
    error_message = "retiring the buffer keeps the stream DLQ, where the writer parked what it refused"
  }
}

run "retiring_the_buffer_needs_pattern_1" {
  command = plan
  variables {
    pattern = 2
    buffer  = { retired = true }
  }
  expect_failures = [var.buffer]
}

run "no_alarms" {
  command = plan

  variables {
    pattern = 2
    alarms  = null
  }

  assert {
    condition     = length(module.alarms) == 0 && output.alarm_names == []
    error_message = "alarms = null creates no alarm"
  }
}

run "tracing_on_by_default" {
  command = plan

  variables {
    pattern = 2
  }

  assert {
    condition     = module.stream_function.tracing.mode == "Active" && module.writer_function[0].tracing.mode == "Active"
    error_message = "X-Ray active tracing is on by default for both functions"
  }
  assert {
    condition     = module.stream_function.tracing.trace_disabled == "false" && module.writer_function[0].tracing.trace_disabled == "false"
    error_message = "with tracing on, POWERTOOLS_TRACE_DISABLED is false"
  }
}

run "tracing_off_imports_no_xray" {
  command = plan

  variables {
    pattern   = 2
    functions = { tracing = false }
  }

  assert {
    condition     = module.stream_function.tracing.mode == "PassThrough" && module.writer_function[0].tracing.mode == "PassThrough"
    error_message = "functions.tracing = false turns active tracing off"
  }
  assert {
    condition     = module.stream_function.tracing.trace_disabled == "true" && module.writer_function[0].tracing.trace_disabled == "true"
    error_message = "with tracing off, POWERTOOLS_TRACE_DISABLED is true, so the handlers import no X-Ray code"
  }
}

# Reviewed finding: with the default alarms.topic_arn = null every alarm fired to nobody.
run "default_alarms_notify_a_topic_of_their_own" {
  command = plan
  assert {
    condition     = output.alarm_topic_arn != null && length(output.alarm_names) > 0
    error_message = "with default settings the alarms notify a topic created for them"
  }
}

run "alarms_notify_the_topic_given" {
  command = plan
  variables {
    alarms = { topic_arn = "arn:aws:sns:eu-west-1:123456789012:ops", emails = ["oncall@example.com"] }
  }
  assert {
    condition     = output.alarm_topic_arn == "arn:aws:sns:eu-west-1:123456789012:ops"
    error_message = "a given topic is used, and none is created"
  }
}
