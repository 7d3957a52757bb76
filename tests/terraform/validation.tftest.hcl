# Wrong values are refused at plan time with a message that says what is wrong.

mock_provider "aws" {
  source = "./tests/terraform"
}

variables {
  lambda_zip = "tests/terraform/fixtures/lambda.zip"
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

run "visibility_timeout_must_cover_six_timeouts" {
  command = plan
  module {
    source = "./modules/buffer"
  }
  variables {
    senders            = { queue = [] }
    name_prefix        = "tftest"
    tables             = { summary = { name = "s", arn = "arn:aws:dynamodb:eu-west-1:1:table/s" }, applied = { name = "a", arn = "arn:aws:dynamodb:eu-west-1:1:table/a" } }
    package            = { path = "tests/terraform/fixtures/lambda.zip", sha256 = "x" }
    function           = { runtime = "python3.12", architecture = "arm64", memory_mb = 256, timeout_seconds = 60, log_retention_days = 30 }
    queue              = { max_receive_count = 5, maximum_concurrency = 2, batch_size = 10, batching_window_seconds = 1, visibility_timeout_seconds = 300, message_retention_seconds = 345600, backoff_max_seconds = 45 }
    marker_ttl_seconds = 1296000
  }
  expect_failures = [aws_sqs_queue.buffer]
}

run "api_authorization_is_iam_cognito_or_none" {
  command = plan
  module {
    source = "./modules/api"
  }
  variables {
    name_prefix = "tftest"
    tables      = { details = { name = "d", arn = "arn:aws:dynamodb:eu-west-1:1:table/d", index_name = "byRecordedAt" }, summary = { name = "s", arn = "arn:aws:dynamodb:eu-west-1:1:table/s" } }
    settings    = { authorization = "OAUTH" }
    currencies  = { EUR = 2 }
  }
  expect_failures = [var.settings]
}

run "currencies_need_known_minor_units" {
  command = plan
  module {
    source = "./modules/api"
  }
  variables {
    name_prefix = "tftest"
    tables      = { details = { name = "d", arn = "arn:aws:dynamodb:eu-west-1:1:table/d", index_name = "byRecordedAt" }, summary = { name = "s", arn = "arn:aws:dynamodb:eu-west-1:1:table/s" } }
    currencies  = { EUR = 2, eur = 2, JPY = 0.5 }
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
  module {
    source = "./modules/api"
  }
  variables {
    name_prefix = "tftest"
    tables      = { details = { name = "d", arn = "arn:aws:dynamodb:eu-west-1:1:table/d", index_name = "byRecordedAt" }, summary = { name = "s", arn = "arn:aws:dynamodb:eu-west-1:1:table/s" } }
    settings    = { execution_log_level = "DEBUG" }
    currencies  = { EUR = 2 }
  }
  expect_failures = [var.settings]
}

run "the_backoff_ceiling_must_be_shorter_than_the_visibility_timeout" {
  command = plan
  variables {
    pattern = 2
    buffer  = { backoff_max_seconds = 60 }
  }
  expect_failures = [var.buffer]
}

run "a_writer_timeout_too_long_for_the_default_visibility_timeout_is_refused" {
  command = plan
  variables {
    pattern = 2
    buffer  = { writer_timeout_seconds = 10 }
  }
  expect_failures = [var.buffer]
}
