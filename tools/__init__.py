"""What the Makefile runs: the Terraform mirror, the generated docs, the test parts."""
