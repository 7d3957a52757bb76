"""Fidelity patches: moto made to answer as AWS documents where the stack depends on it, one module per
AWS service: ``sqs``, ``dynamodb`` (tables and their streams), ``lambdas`` (event source mappings),
``iam`` (callers held to execution roles and queue policies), ``apigateway``, ``logs`` and ``pipes``.

Where AWS refuses something at apply time, it is refused here too, so that a first apply that would fail
in a fresh account fails locally. The order the patches are applied in is ``local_account.patches.PATCHES``'s,
whatever the module.
"""

from __future__ import annotations

from . import apigateway, dynamodb, iam, lambdas, logs, pipes, sqs

__all__ = ["apigateway", "dynamodb", "iam", "lambdas", "logs", "pipes", "sqs"]
