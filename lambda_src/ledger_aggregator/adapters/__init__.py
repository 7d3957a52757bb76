"""AWS adapters behind the protocols in :mod:`ledger_aggregator.ports`."""
