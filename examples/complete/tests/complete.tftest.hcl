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
  assert {
    condition     = module.ledger.api_access_log == "/aws/apigateway/ledger-prod-ledger"
    error_message = "the stage writes its access log, through the CloudWatch role the stack creates in a fresh account"
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

run "cloudwatch_logs_and_eventbridge_may_use_the_key" {
  command = plan
  assert {
    condition = anytrue([for s in jsondecode(aws_kms_key.ledger.policy).Statement :
      s.Principal == { Service = "logs.eu-west-1.amazonaws.com" } && try(s.Condition.ArnLike["kms:EncryptionContext:aws:logs:arn"], "") == "arn:aws:logs:eu-west-1:123456789012:log-group:*"
    ])
    error_message = "CloudWatch Logs uses a key as logs.<region>.amazonaws.com, for this account's log groups (encrypt-log-data-kms.html)"
  }
  assert {
    condition = anytrue([for s in jsondecode(aws_kms_key.ledger.policy).Statement :
      s.Principal == { Service = "events.amazonaws.com" } && try(s.Condition.StringLike["kms:EncryptionContext:aws:sqs:arn"], "") == "arn:aws:sqs:eu-west-1:123456789012:ledger-prod-*"
    ])
    error_message = "EventBridge may encrypt what it delivers to this stack's queues, bound to them by SQS's encryption context"
  }
}
