# Wrong values are refused at plan time with a message that says what is wrong.

mock_provider "aws" {
  source = "./tests/terraform"
}

variables {
  lambda_zip = "tests/terraform/fixtures/lambda.zip"
  # The account has API Gateway's CloudWatch role (logging.tftest.hcl tests the default, without it).
  api = { access_log = true }
  # The api module's data files, as the root reads them.
  id_patterns  = { for k, v in jsondecode(file("lambda_src/ledger_aggregator/ids.json")) : k => v if k != "$comment" }
  balance_item = [for a in jsondecode(file("lambda_src/ledger_aggregator/balance_item.json")).attributes : { placeholder = a.placeholder, name = a.name, holds = try(a.holds, false) }]
  hold_item    = [for a in jsondecode(file("lambda_src/ledger_aggregator/hold_item.json")).attributes : { placeholder = a.placeholder, name = a.name }]
}

run "pattern_must_be_1_or_2" {
  command = plan
  variables {
    pattern = 3
  }
  expect_failures = [var.pattern]
}

run "name_prefix_must_be_a_valid_name" {
  command = plan
  variables {
    name_prefix = "Bad_Prefix!"
  }
  expect_failures = [var.name_prefix]
}

run "lambda_zip_must_exist" {
  command = plan
  variables {
    lambda_zip = "dist/does-not-exist.zip"
  }
  expect_failures = [var.lambda_zip]
}

run "architecture_must_be_known" {
  command = plan
  variables {
    functions = { architecture = "sparc" }
  }
  expect_failures = [var.functions]
}

run "markers_must_outlive_sqs" {
  command = plan
  variables {
    functions = { marker_ttl_days = 3 }
  }
  expect_failures = [var.functions]
}

run "stream_batch_size_in_range" {
  command = plan
  variables {
    stream = { batch_size = 20000 }
  }
  expect_failures = [var.stream]
}

run "sqs_batches_above_ten_need_a_window" {
  command = plan
  variables {
    buffer = { batch_size = 50, batching_window_seconds = 0 }
  }
  expect_failures = [var.buffer]
}

run "writers_need_a_concurrency_of_two" {
  command = plan
  variables {
    buffer = { maximum_concurrency = 1 }
  }
  expect_failures = [var.buffer]
}

run "kms_key_must_be_an_arn" {
  command = plan
  variables {
    kms_key_arn = "my-key"
  }
  expect_failures = [var.kms_key_arn]
}

# 6 x the writer's 5 s + the 1 s window is 31 s: one second short is refused.
run "visibility_timeout_must_cover_six_timeouts" {
  command = plan
  variables {
    pattern = 2
    buffer  = { visibility_timeout_seconds = 30, backoff_max_seconds = 20 }
  }
  expect_failures = [var.buffer]
}

run "api_authorization_is_iam_cognito_or_none" {
  command = plan
  variables {
    api = { authorization = "OAUTH" }
  }
  expect_failures = [var.api]
}

run "currencies_need_known_minor_units" {
  command = plan
  module {
    source = "./modules/api"
  }
  variables {
    name_prefix = "tftest"
    name        = "tftest-ledger"
    tables      = { details = { name = "d", arn = "arn:aws:dynamodb:eu-west-1:1:table/d", index_name = "byRecordedAt" }, summary = { name = "s", arn = "arn:aws:dynamodb:eu-west-1:1:table/s" }, balances = { name = "b", arn = "arn:aws:dynamodb:eu-west-1:1:table/b" }, holds = { name = "ho", arn = "arn:aws:dynamodb:eu-west-1:1:table/ho" }, history = { name = "h", arn = "arn:aws:dynamodb:eu-west-1:1:table/h" } }
    currencies  = { EUR = 2, eur = 2, JPY = 0.5 }
    api = {
      authorization = "AWS_IAM", cognito_user_pool_arns = [], cognito_grants = { read = "custom:accounts", transfer = "custom:accounts", post = null, limits = null, read_hold = "custom:accounts", hold = null, capture = null, void = null }, allow_unauthenticated = false,
      stage_name    = "v1", throttle_rate = 100, throttle_burst = 200, log_retention_days = 30, execution_log_level = "OFF", create_logging_role = false
    }
  }
  expect_failures = [var.currencies]
}

# Reviewed finding: marker_ttl_days = 15.00001 passed and rendered MARKER_TTL_SECONDS = "1296000.864",
# which the function refuses to parse on every invocation. Whole numbers are checked wherever meant.
run "marker_ttl_days_must_be_whole" {
  command = plan
  variables {
    functions = { marker_ttl_days = 15.00001 }
  }
  expect_failures = [var.functions]
}

run "function_numbers_must_be_whole" {
  command = plan
  variables {
    functions = { memory_mb = 256.5, reserved_concurrency = 2.5 }
  }
  expect_failures = [var.functions]
}

run "stream_numbers_must_be_whole" {
  command = plan
  variables {
    stream = { batch_size = 10.5 }
  }
  expect_failures = [var.stream]
}

run "buffer_numbers_must_be_whole" {
  command = plan
  variables {
    buffer = { visibility_timeout_seconds = 300.5 }
  }
  expect_failures = [var.buffer]
}

run "table_capacities_must_be_whole" {
  command = plan
  variables {
    tables = { summary_write_capacity = 2.5 }
  }
  expect_failures = [var.tables]
}

run "api_execution_log_level_is_off_error_or_info" {
  command = plan
  variables {
    api = { execution_log_level = "DEBUG" }
  }
  expect_failures = [var.api]
}

run "the_backoff_ceiling_must_be_shorter_than_the_visibility_timeout" {
  command = plan
  variables {
    pattern = 2
    buffer  = { backoff_max_seconds = 31 }
  }
  expect_failures = [var.buffer]
}

run "a_writer_timeout_too_long_for_the_default_visibility_timeout_is_refused" {
  command = plan
  variables {
    pattern = 2
    buffer  = { writer_timeout_seconds = 6 }
  }
  expect_failures = [var.buffer]
}

# Validations that lived in the modules, naming variables the user never set (settings.*, summary.*,
# thresholds, emails), are now the root's, and name what the user wrote.
run "api_stage_name_is_letters_digits_underscores" {
  command = plan
  variables {
    api = { stage_name = "v-1" }
  }
  expect_failures = [var.api]
}

run "api_cognito_grants_are_claim_names" {
  command = plan
  variables {
    api = { cognito_grants = { post = "custom accounts" } }
  }
  expect_failures = [var.api]
}

run "api_user_pools_are_arns" {
  command = plan
  variables {
    api = { cognito_user_pool_arns = ["pool-1"] }
  }
  expect_failures = [var.api]
}

run "api_throttle_burst_is_whole" {
  command = plan
  variables {
    api = { throttle_burst = 2.5 }
  }
  expect_failures = [var.api]
}

run "api_log_retention_is_a_cloudwatch_value" {
  command = plan
  variables {
    api = { log_retention_days = 31 }
  }
  expect_failures = [var.api]
}

run "summary_billing_mode_is_provisioned_or_on_demand" {
  command = plan
  variables {
    tables = { summary_billing_mode = "ON_DEMAND" }
  }
  expect_failures = [var.tables]
}

run "alarm_thresholds_must_be_positive" {
  command = plan
  variables {
    alarms = { iterator_age_ms = 0 }
  }
  expect_failures = [var.alarms]
}

run "alarm_emails_must_be_addresses" {
  command = plan
  variables {
    alarms = { emails = ["on-call"] }
  }
  expect_failures = [var.alarms]
}

run "alarm_topic_must_be_an_sns_arn" {
  command = plan
  variables {
    alarms = { topic_arn = "arn:aws:sqs:eu-west-1:123456789012:alarms" }
  }
  expect_failures = [var.alarms]
}

# 14 days of buffer retention against the default 15 days of markers leaves one day, not more than one.
run "markers_must_outlive_buffer_messages_by_a_day" {
  command = plan
  variables {
    pattern = 2
    buffer  = { message_retention_seconds = 1209600 }
  }
  expect_failures = [var.buffer]
}

# For an assumed role's session, aws:PrincipalArn is the role's ARN with its path, never the session's
# sts ARN: a queue policy listing the session's ARN refuses that operator every send.
run "operator_arns_refuse_an_assumed_role_session" {
  command = plan
  variables {
    operator_arns = ["arn:aws:sts::123456789012:assumed-role/ledger-ops/alice"]
  }
  expect_failures = [var.operator_arns]
}

run "operator_arns_take_a_role_with_its_path" {
  command = plan
  variables {
    operator_arns = ["arn:aws:iam::123456789012:role/team/ops/ledger-ops", "arn:aws:iam::123456789012:user/alice"]
  }
}

run "queue_senders_refuse_an_assumed_role_session" {
  command = plan
  module {
    source = "./modules/queue_policy"
  }
  variables {
    queue_name = "q"
    senders    = ["arn:aws:sts::123456789012:assumed-role/ledger-ops/alice"]
  }
  expect_failures = [var.senders]
}

run "history_index_allowance_must_be_whole_seconds_up_to_an_hour" {
  command = plan
  variables {
    history = { index_allowance_seconds = 1.5 }
  }
  expect_failures = [var.history]
}

run "history_index_allowance_must_leave_a_margin" {
  command = plan
  variables {
    history = { index_allowance_seconds = 9 }
  }
  expect_failures = [var.history]
}

run "history_schedule_must_be_a_recurring_scheduler_expression" {
  command = plan
  variables {
    history = { schedule = "at(2026-12-07T00:05:00)" }
  }
  expect_failures = [var.history]
}

run "history_schedule_cron_needs_six_fields" {
  command = plan
  variables {
    history = { schedule = "cron(5 * * * *)" }
  }
  expect_failures = [var.history]
}

run "history_schedule_cron_needs_a_question_mark_in_one_day_field" {
  command = plan
  variables {
    history = { schedule = "cron(5 * * * * *)" }
  }
  expect_failures = [var.history]
}

run "history_schedule_rate_of_one_takes_the_singular" {
  command = plan
  variables {
    history = { schedule = "rate(1 hours)" }
  }
  expect_failures = [var.history]
}

run "history_schedule_takes_aws_forms" {
  command = plan
  variables {
    history = { schedule = "cron(0/30 6-7,18 ? * MON-FRI *)" }
  }
  assert {
    condition     = module.closer.schedule.expression == "cron(0/30 6-7,18 ? * MON-FRI *)"
    error_message = "a cron with ? in day-of-month is taken"
  }
}

run "closer_timeout_must_be_lambdas_at_most" {
  command = plan
  variables {
    history = { closer_timeout_seconds = 901 }
  }
  expect_failures = [var.history]
}

# The schedule runs the closer: by default five past every hour, UTC; the function keeps its own timeout
# and no reserved concurrency; a failed run is not retried by Lambda and goes to the closer's DLQ, which the
# alarms watch with the function's errors.
run "the_closer_runs_on_its_schedule_and_parks_failed_runs" {
  command = plan
  variables {
    functions = { reserved_concurrency = 5, timeout_seconds = 30 }
    alarms    = {}
  }
  assert {
    condition     = module.closer.schedule.expression == "cron(5 * * * ? *)"
    error_message = "the default schedule is five past every hour"
  }
  assert {
    condition     = module.closer_function.timeout_seconds == 900 && module.stream_function.timeout_seconds == 30
    error_message = "the closer has its own timeout, Lambda's longest by default"
  }
  assert {
    condition     = contains(module.alarms[0].alarm_names, "ledger-dlq-ledger-closer-dlq")
    error_message = "the closer's dead-letter queue has an alarm"
  }
}

# The seal is the integration timeout (modules/api sets it on every integration) plus the allowance.
run "a_day_is_sealed_the_integration_timeout_plus_the_allowance_after_its_end" {
  command = plan
  variables {
    history = { index_allowance_seconds = 120 }
  }
  assert {
    condition     = output.history.seal_seconds == 149
    error_message = "seal_seconds is 29 s of integration timeout plus the 120 s allowance"
  }
}
