# An existing stack's state follows the module renames (moved blocks in moved.tf): a stack applied with
# the old addresses, then applied with the current root, keeps the resources it had. The mock provider
# generates a new mapping UUID (and table ARN) whenever it creates one, so a mapping destroyed and
# created again under its new address shows as a changed UUID; without the moved block this fails.

mock_provider "aws" {
  source = "./tests/terraform"
}

variables {
  name_prefix = "tftest"
  lambda_zip  = "tests/terraform/fixtures/lambda.zip"
  # The account has API Gateway's CloudWatch role (logging.tftest.hcl tests the default, without it).
  api = { access_log = true }
}

run "before_the_renames" {
  state_key = "renames"
  module {
    source = "./tests/terraform/fixtures/before_renames"
  }
  providers = {
    aws = aws
  }
}

run "the_stream_function_follows_to_module_stream" {
  state_key = "renames"
  variables {
    pattern = 1
  }
  assert {
    condition     = module.stream.event_source_mapping_uuid == run.before_the_renames.stream.mapping_uuid
    error_message = "the stream's event source mapping was replaced: a new mapping starts from TRIM_HORIZON and replays the stream"
  }
  assert {
    condition     = output.details_table.arn == run.before_the_renames.stream.details_arn
    error_message = "the details table was replaced"
  }
}
