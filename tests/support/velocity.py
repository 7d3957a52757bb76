"""The template renderer (Apache Velocity 1.7 in a JVM) is required where templates are rendered.

Without Java or the jars, the tests that render are skipped, and the session's summary says so in
capitals. With ``CQRS_REQUIRE_VELOCITY=1`` (set by ``.ci/run``) they fail instead: CI runs the engine.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from local_account.velocity import unavailable

REQUIRED = os.environ.get("CQRS_REQUIRE_VELOCITY") == "1"


def velocity_or_skip() -> None:
    """Skip the calling test when the renderer cannot run here (fail when it is required)."""
    reason = unavailable()
    if reason is None:
        return
    if REQUIRED:
        pytest.fail(f"CQRS_REQUIRE_VELOCITY=1 and Apache Velocity 1.7 cannot run: {reason}")
    pytest.skip(f"Apache Velocity 1.7 cannot run here: {reason}")


def warn_in_summary(terminalreporter: Any) -> None:
    """A banner at the end of the session when the renderer was missing."""
    reason = unavailable()
    if reason is not None:
        terminalreporter.section("TEMPLATE RENDERER MISSING", sep="!", red=True, bold=True)
        terminalreporter.line(f"TESTS THAT RENDER MAPPING TEMPLATES WERE SKIPPED: {reason}", red=True, bold=True)
