# Names that cross modules are computed once, at the root (local.names), and the queue policies' senders
# are the roles the modules create. Neither the mocks (every role's ARN is role/mock) nor the local
# account (it does not enforce queue policies) would show a drift, so it is held here, by name.

mock_provider "aws" {
  source = "./tests/terraform"
}

variables {
  name_prefix = "tftest"
  lambda_zip  = "tests/terraform/fixtures/lambda.zip"
  # The account has API Gateway's CloudWatch role (logging.tftest.hcl tests the default, without it).
  api     = { access_log = true }
  pattern = 2
}

run "the_queues_senders_are_the_functions_roles" {
  command = plan
  assert {
    condition     = local.role_arn.stream == "arn:aws:iam::123456789012:role/${module.stream_function.role_name}"
    error_message = "the buffer queue's sender is the stream function's role"
  }
  assert {
    condition     = local.role_arn.writer == "arn:aws:iam::123456789012:role/${module.writer_function[0].role_name}"
    error_message = "the stream DLQ's extra sender is the writer's role"
  }
  assert {
    condition     = local.role_arn.closer == "arn:aws:iam::123456789012:role/${module.closer_function.role_name}"
    error_message = "the closer DLQ's sender (the function's on-failure destination) is the closer's role"
  }
  assert {
    condition     = local.stream_function.name == module.stream_function.name
    error_message = "the removal guard reads the stream function the root creates"
  }
}

run "each_name_is_the_roots" {
  command = plan
  assert {
    condition = (
      module.api.access_log_group_name == "/aws/apigateway/${local.names.api}" &&
      module.stream.dlq.name == local.names.stream.dlq &&
      module.buffer[0].queue.name == local.names.buffer.queue &&
      module.buffer[0].dlq.name == local.names.buffer.dlq &&
      module.writer_function[0].name == local.names.buffer.function &&
      module.stream_function.name == local.names.stream.function &&
      module.closer_function.name == local.names.closer.function &&
      module.closer.dlq.name == local.names.closer.dlq &&
      module.closer.schedule.name == local.names.closer.schedule
    )
    error_message = "the modules name their resources as the root computed"
  }
}
