"""Settings read from the function's environment, with errors that name the variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_MARKER_TTL_SECONDS = 15 * 24 * 3600  # longer than SQS's longest retention (14 days)
MODES = ("direct", "queue")


class ConfigurationError(RuntimeError):
    """The function's environment is incomplete or wrong."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What the handlers need to know about their deployment."""

    mode: str
    summary_table: str | None
    applied_table: str | None
    buffer_queue_url: str | None
    poison_queue_url: str | None
    marker_ttl_seconds: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and check the settings; raise ConfigurationError naming what is wrong."""
        source = os.environ if env is None else env
        mode = source.get("MODE", "direct")
        if mode not in MODES:
            raise ConfigurationError(f"MODE must be one of {MODES}, got {mode!r}")
        ttl_text = source.get("MARKER_TTL_SECONDS", str(DEFAULT_MARKER_TTL_SECONDS))
        if not ttl_text.isdigit() or int(ttl_text) < 86_400:
            raise ConfigurationError("MARKER_TTL_SECONDS must be a whole number of seconds, at least 86400")
        return cls(
            mode=mode,
            summary_table=source.get("SUMMARY_TABLE") or None,
            applied_table=source.get("APPLIED_TABLE") or None,
            buffer_queue_url=source.get("BUFFER_QUEUE_URL") or None,
            poison_queue_url=source.get("POISON_QUEUE_URL") or None,
            marker_ttl_seconds=int(ttl_text),
        )

    def require(self, name: str) -> str:
        """The value of a setting that this function cannot work without."""
        value = getattr(self, name)
        if not value:
            raise ConfigurationError(f"{name.upper()} is not set for MODE={self.mode}")
        return str(value)
