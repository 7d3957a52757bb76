"""Projection of account transactions into account summaries.

The package is layered as follows:

* :mod:`ledger_aggregator.domain` -- pure types and arithmetic (no AWS imports);
* :mod:`ledger_aggregator.projector` -- pure orchestration of one batch;
* :mod:`ledger_aggregator.adapters` -- DynamoDB and SQS behind small protocols;
* :mod:`ledger_aggregator.handlers` -- thin Lambda entry points (Powertools).
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
