"""The harness: the stack applied by Terraform, the signed client, load and probes; it may start the local account."""
