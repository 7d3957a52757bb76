"""Operator's tools: ``python -m ledger_aggregator.ops --help``."""
