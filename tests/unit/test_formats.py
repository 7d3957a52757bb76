"""The validators of lambda_src/ledger_aggregator/formats.py."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from ledger_aggregator.formats import is_canonical_time, is_utc_time

DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=1)


def shaped(digits: list[str]) -> str:
    """A time of the accepted shape from 14 digits, whatever they are: month 13, day 31 of February..."""
    d = "".join(digits)
    return f"{d[0:4]}-{d[4:6]}-{d[6:8]}T{d[8:10]}:{d[10:12]}:{d[12:14]}Z"


def strptime_accepts(text: str) -> bool:
    try:
        datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return False
    return int(text[17:19]) < 60  # strptime takes :60 and :61; no API request carries them


@given(st.lists(DIGITS, min_size=14, max_size=14))
def test_a_time_is_a_calendar_instant_exactly_when_strptime_says_so(digits: list[str]) -> None:
    """The check moved from strptime, a third of the fold's time, to datetime's constructor."""
    text = shaped(digits)
    assert is_utc_time(text) == strptime_accepts(text)
    assert is_canonical_time(text[:-1] + ".000000Z") == strptime_accepts(text)


def test_real_and_unreal_days() -> None:
    assert is_utc_time("2024-02-29T23:59:59Z") and not is_utc_time("2023-02-29T00:00:00Z")
    assert not is_utc_time("2024-13-01T00:00:00Z") and not is_utc_time("2024-01-01T00:00:60Z")
    assert not is_utc_time("0000-01-01T00:00:00Z")
