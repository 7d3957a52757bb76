# An existing stack's state follows the module renames and moves (moved blocks in moved.tf): a stack
# applied with the old addresses, then applied with the current root, keeps the resources it had. The mock
# provider generates a new mapping UUID (and table ARN) whenever it creates one, so a mapping destroyed and
# created again under its new address shows as a changed UUID; without the moved block this fails. The
# mocks give every function and role the same ARN, so the old stacks' are overridden with ARNs of their
# own: a function or role created again under its new address would have the mocks' instead.

mock_provider "aws" {
  source = "./tests/terraform"
}

# The old stacks' functions and roles (the fixtures' addresses; the current root has none of them).
override_resource {
  target = module.aggregator.module.function.aws_lambda_function.this
  values = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:stream-before" }
}
override_resource {
  target = module.aggregator.module.function.aws_iam_role.this
  values = { arn = "arn:aws:iam::123456789012:role/stream-before" }
}
override_resource {
  target = module.stream.module.function.aws_lambda_function.this
  values = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:stream-before" }
}
override_resource {
  target = module.stream.module.function.aws_iam_role.this
  values = { arn = "arn:aws:iam::123456789012:role/stream-before" }
}
override_resource {
  target = module.buffer.module.function.aws_lambda_function.this
  values = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:writer-before" }
}
override_resource {
  target = module.buffer.module.function.aws_iam_role.this
  values = { arn = "arn:aws:iam::123456789012:role/writer-before" }
}
override_resource {
  target = module.events.module.function.aws_lambda_function.this
  values = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:events-before" }
}
override_resource {
  target = module.events.module.function.aws_iam_role.this
  values = { arn = "arn:aws:iam::123456789012:role/events-before" }
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
    error_message = "the stream's event source mapping or its role was replaced: a new mapping starts from TRIM_HORIZON and replays the stream"
  }
  assert {
    condition     = output.details_table.arn == run.before_the_renames.stream.details_arn
    error_message = "the details table was replaced"
  }
  assert {
    condition     = { arn = module.stream_function.arn, role_arn = module.stream_function.role_arn } == run.before_the_renames.stream.function
    error_message = "the stream function or its role was replaced: from module.aggregator.module.function it takes both moves, to module.stream_function"
  }
}

# The functions were created inside the modules that use them (module.stream.module.function, and in
# module.buffer[0] and module.events[0]) until the root called the function module once per function.
# Pattern 1 with its buffer retired has no writer; pattern 2 has one; both with the balance events on.
run "pattern_1_before_the_root_composed_the_functions" {
  state_key = "functions_1"
  module {
    source = "./tests/terraform/fixtures/before_root_functions"
  }
  providers = {
    aws = aws
  }
  variables {
    writer = false
    events = true
  }
}

run "pattern_1_keeps_its_functions" {
  state_key = "functions_1"
  variables {
    pattern = 1
    buffer  = { retired = true }
    events  = {}
  }
  assert {
    condition     = { arn = module.stream_function.arn, role_arn = module.stream_function.role_arn } == run.pattern_1_before_the_root_composed_the_functions.functions.stream
    error_message = "the stream function or its role was replaced: module.stream.module.function moves to module.stream_function"
  }
  assert {
    condition     = { arn = module.events_function[0].arn, role_arn = module.events_function[0].role_arn } == run.pattern_1_before_the_root_composed_the_functions.functions.events
    error_message = "the events function or its role was replaced: module.events[0].module.function moves to module.events_function[0]"
  }
  assert {
    condition     = length(module.writer_function) == 0 && output.writer_function_name == null
    error_message = "pattern 1 with its buffer retired has no writer"
  }
}

run "pattern_2_before_the_root_composed_the_functions" {
  state_key = "functions_2"
  module {
    source = "./tests/terraform/fixtures/before_root_functions"
  }
  providers = {
    aws = aws
  }
  variables {
    writer = true
    events = true
  }
}

run "pattern_2_keeps_its_functions" {
  state_key = "functions_2"
  variables {
    pattern = 2
    events  = {}
  }
  assert {
    condition     = { arn = module.stream_function.arn, role_arn = module.stream_function.role_arn } == run.pattern_2_before_the_root_composed_the_functions.functions.stream
    error_message = "the stream function or its role was replaced: module.stream.module.function moves to module.stream_function"
  }
  assert {
    condition     = { arn = module.writer_function[0].arn, role_arn = module.writer_function[0].role_arn } == run.pattern_2_before_the_root_composed_the_functions.functions.writer
    error_message = "the writer or its role was replaced: module.buffer[0].module.function moves to module.writer_function[0]"
  }
  assert {
    condition     = { arn = module.events_function[0].arn, role_arn = module.events_function[0].role_arn } == run.pattern_2_before_the_root_composed_the_functions.functions.events
    error_message = "the events function or its role was replaced: module.events[0].module.function moves to module.events_function[0]"
  }
}
