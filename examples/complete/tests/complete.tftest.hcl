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

run "a_queue_takes_the_balance_events" {
  command = plan
  assert {
    condition     = aws_cloudwatch_event_rule.balance_changes.event_bus_name == "ledger-prod-ledger-events"
    error_message = "the rule listens on the ledger's own bus"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.balance_changes.event_pattern) == { source = ["cqrs-ledger"], "detail-type" = ["Balance Changed"] }
    error_message = "the rule matches the ledger's source and detail-type, from the module's output"
  }
  assert {
    condition     = !coalesce(aws_sqs_queue.balance_changes.fifo_queue, false) && length(aws_cloudwatch_event_target.balance_changes.sqs_target) == 0
    error_message = "a standard queue: the bus keeps no order to a target, and the consumer needs none (the highest revision wins)"
  }
  assert {
    condition = (
      aws_cloudwatch_event_target.balance_changes.retry_policy[0].maximum_event_age_in_seconds == 3600 &&
      aws_cloudwatch_event_target.balance_changes.dead_letter_config[0].arn == aws_sqs_queue.balance_changes_failed.arn
    )
    error_message = "the target bounds how late an event can be, and keeps what it gives up in a dead-letter queue"
  }
  assert {
    condition     = aws_sqs_queue.balance_changes_failed.kms_master_key_id == aws_kms_key.ledger.arn
    error_message = "the dead-letter queue is encrypted with the ledger's key too"
  }
  assert {
    condition     = aws_sqs_queue.balance_changes.kms_master_key_id == aws_kms_key.ledger.arn
    error_message = "the queue is encrypted with the ledger's key"
  }
}
