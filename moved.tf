# Renames of module calls and resources, so that an existing stack's state follows them without
# replacing anything (tests/terraform/renames.tftest.hcl applies the old addresses, then this root).
# Keep each block for as long as a stack deployed before it may still be applied.

# module "aggregator" (renamed after 0.1.0) held only the stream function, its mapping and the stream DLQ.
moved {
  from = module.aggregator
  to   = module.stream
}

# The functions were created inside the modules that use them (stream, buffer, events) until the root
# called the function module once per function (tests/terraform/upgrades.tftest.hcl). The buffer and the
# events have a count, and so have their functions, under the same condition: instance [0] to [0].
moved {
  from = module.stream.module.function
  to   = module.stream_function
}
moved {
  from = module.buffer[0].module.function
  to   = module.writer_function[0]
}
moved {
  from = module.events[0].module.function
  to   = module.events_function[0]
}
