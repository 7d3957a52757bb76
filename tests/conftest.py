"""Settings every test tier shares.

Hypothesis's deadline is off for every property test: this machine is shared and noisy, and a test is never
gated on absolute time (docs/testing.md). Hypothesis still reports a slow example as a health check.
"""

from hypothesis import settings

settings.register_profile("ledger", deadline=None)
settings.load_profile("ledger")
