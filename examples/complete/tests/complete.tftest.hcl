mock_provider "aws" {
  source = "../../tests/terraform"
}

variables {
  lambda_zip = "../../tests/terraform/fixtures/lambda.zip"
}

run "every_option_set" {
  assert {
    condition     = module.ledger.pattern == 2 && module.ledger.writer_function_name == "ledger-prod-writer"
    error_message = "pattern 2 with the prefix given"
  }
  assert {
    condition     = module.ledger.alarm_topic_arn != null && length(module.ledger.alarm_names) > 0
    error_message = "the alarms notify a topic created for them"
  }
  assert {
    condition     = module.ledger.api_access.stage_name == "v1"
    error_message = "the stage given"
  }
}
