"""Projection of account transactions into account summaries (the Lambda package of cqrs-ledger).

Its layers, and what each may import, are the import-linter contracts in pyproject.toml
(``[tool.importlinter]``), which ``make lint`` checks; docs/aggregator.md describes them.
"""

__all__ = ["__version__"]

# The release: its one owner (pyproject.toml, docs/openapi.yaml and CHANGELOG.md are held to it by
# tests/static/test_release.py). A team pins a release by the commit that cut it (README's pin, which
# test_release resolves).
__version__ = "0.2.0"
