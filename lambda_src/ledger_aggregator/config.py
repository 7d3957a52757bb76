"""Settings read from the function's environment, with errors that name the variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from .redelivery import DEFAULT_CEILING_SECONDS

DEFAULT_MARKER_TTL_SECONDS = 15 * 24 * 3600  # longer than SQS's longest retention (14 days)
DEFAULT_BACKOFF_MAX_SECONDS = DEFAULT_CEILING_SECONDS
MAX_VISIBILITY_SECONDS = 43_200  # SQS's longest visibility timeout


class ConfigurationError(RuntimeError):
    """The function's environment is incomplete or wrong."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What the handlers need to know about their deployment."""

    pattern: int | None  # the stream function's PATTERN (the root's variable); the writer has none
    summary_table: str | None
    applied_table: str | None
    buffer_queue_url: str | None
    dlq_url: str | None
    marker_ttl_seconds: int
    backoff_max_seconds: int = DEFAULT_BACKOFF_MAX_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and check the settings; raise ConfigurationError naming what is wrong."""
        source = os.environ if env is None else env
        pattern = source.get("PATTERN")  # no default here: the root's pattern variable owns it
        if pattern is not None and pattern not in ("1", "2"):
            raise ConfigurationError(f"PATTERN must be 1 or 2, got {pattern!r}")
        return cls(
            pattern=None if pattern is None else int(pattern),
            summary_table=source.get("SUMMARY_TABLE") or None,
            applied_table=source.get("APPLIED_TABLE") or None,
            buffer_queue_url=source.get("BUFFER_QUEUE_URL") or None,
            dlq_url=source.get("DLQ_URL") or None,
            marker_ttl_seconds=_seconds(source, "MARKER_TTL_SECONDS", DEFAULT_MARKER_TTL_SECONDS, 86_400, None),
            backoff_max_seconds=_seconds(
                source, "BACKOFF_MAX_SECONDS", DEFAULT_BACKOFF_MAX_SECONDS, 1, MAX_VISIBILITY_SECONDS
            ),
        )

    def require(self, name: str) -> str:
        """The value of a setting that this function cannot work without."""
        value = getattr(self, name)
        if not value:
            deployed = "the writer" if self.pattern is None else f"PATTERN={self.pattern}"
            raise ConfigurationError(f"{name.upper()} is not set for {deployed}")
        return str(value)


def _seconds(source: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> int:
    """A whole number of seconds from the environment, within ``low``..``high``."""
    text = source.get(name, str(default))
    if not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
        bounds = f"at least {low}" if high is None else f"{low}-{high}"
        raise ConfigurationError(f"{name} must be a whole number of seconds, {bounds}")
    return int(text)


def deployment_name(env: Mapping[str, str] | None = None) -> str:
    """The deployment's name (DEPLOYMENT_NAME, the stack's name prefix), which balance events carry."""
    name = (os.environ if env is None else env).get("DEPLOYMENT_NAME", "")
    if not name:
        raise ConfigurationError("DEPLOYMENT_NAME must name the deployment (the stack's name prefix)")
    return name
