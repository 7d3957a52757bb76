"""The shape of every identifier and time the core accepts: one validator per field, owned here.

Each is a whole-string match over ASCII only. Python's ``\\d`` would also take other scripts' digits
(``"٢٠٢٤"``), and ``$`` a trailing newline, so neither is used: every pattern spells ``[0-9]`` and is
applied with ``fullmatch``. The stream side (``domain``) and the writer's decoder (``codec``) ask the
same functions, so a value one side counts is never refused by the other.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

# The id patterns the API's templates, the access module and the OpenAPI document also read (ids.json).
ID_PATTERNS: dict[str, str] = {
    name: pattern
    for name, pattern in json.loads(Path(__file__).with_name("ids.json").read_text()).items()
    if not name.startswith("$")
}
ACCOUNT_ID = re.compile(ID_PATTERNS["accountId"], re.ASCII)
RECORD_ID = re.compile(r"[A-Za-z0-9_-]{1,128}", re.ASCII)
SEQUENCE_NUMBER = re.compile(r"[0-9]{1,48}", re.ASCII)
# An ISO-8601 UTC time as the API accepts it (fractions of up to 6 digits), and the canonical form
# the core writes (exactly 6).
ISO_UTC_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z", re.ASCII)
CANONICAL_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z", re.ASCII)


def _whole(pattern: re.Pattern[str], value: object) -> bool:
    return type(value) is str and pattern.fullmatch(value) is not None


def is_account_id(value: object) -> bool:
    """An account id: 1-64 of ``A-Z a-z 0-9 _ -``, as the API's templates accept."""
    return _whole(ACCOUNT_ID, value)


def is_record_id(value: object) -> bool:
    """A stream record's ``eventID`` as the stream function carries it."""
    return _whole(RECORD_ID, value)


def is_sequence_number(value: object) -> bool:
    """A stream record's ``SequenceNumber``: decimal digits."""
    return _whole(SEQUENCE_NUMBER, value)


def is_utc_time(value: object) -> bool:
    """A real calendar instant written ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``."""
    return _whole(ISO_UTC_TIME, value) and _is_calendar_instant(str(value))


def is_canonical_time(value: object) -> bool:
    """A real calendar instant in the core's canonical form, ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return _whole(CANONICAL_TIME, value) and _is_calendar_instant(str(value))


def _is_calendar_instant(text: str) -> bool:
    """``YYYY-MM-DDTHH:MM:SS`` (ASCII digits, matched before) names a real instant: no 2023-02-29, no :60.

    The datetime constructor, not ``strptime``: the same verdict (a test holds them equal), at a fraction
    of the cost; ``strptime`` was a third of the fold's time.
    """
    try:
        datetime(int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]), int(text[17:19]))
    except ValueError:
        return False
    return True


def beyond_a_label(event: object) -> str:
    """What a scheduled run's input holds beyond an object with at most a ``source`` label (a string), for its
    refusal; empty when nothing."""
    if not isinstance(event, dict):
        return f"a {type(event).__name__}"
    unread = sorted(set(event) - {"source"})
    fine = not unread and isinstance(event.get("source", ""), str)
    return "" if fine else ", ".join(unread) or "a source that is not a string"
