"""The local AWS account: moto plus the parts moto lacks (Lambda execution, mapping templates)."""
