# Renames of module calls and resources, so that an existing stack's state follows them without
# replacing anything (tests/terraform/renames.tftest.hcl applies the old addresses, then this root).
# Keep each block for as long as a stack deployed before it may still be applied.

# module "aggregator" (renamed after 0.1.0) held only the stream function, its mapping and the stream DLQ.
moved {
  from = module.aggregator
  to   = module.stream
}
