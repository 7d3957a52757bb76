"""Fault switches: one spec string, a token bucket, reproducible choices."""

from __future__ import annotations

import pytest

from local_account.fault_plan import Faults, is_summary_table


def test_a_spec_sets_every_fault() -> None:
    faults = Faults.parse("throttle=2wcu, latency=50ms,crash=0.1,dup=0.2,reorder=0.3,overtake=0.4,seed=7")
    assert (faults.throttle_wcu, faults.latency_ms, faults.crash, faults.dup, faults.reorder) == (2, 50, 0.1, 0.2, 0.3)
    assert (faults.overtake, faults.seed) == (0.4, 7)
    assert faults.active and not Faults().active and not Faults.parse("").active


@pytest.mark.parametrize(
    ("spec", "named"),
    [("throttle=2", "throttle"), ("crash=2", "crash"), ("boom=1", "boom"), ("latency=fast", "latency")],
)
def test_a_bad_spec_names_the_part(spec: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        Faults.parse(spec)


def test_the_bucket_refuses_beyond_capacity_and_refills_with_time() -> None:
    now = [100.0]
    faults = Faults(throttle_wcu=10, clock=lambda: now[0])
    assert faults.spend(6) and faults.spend(4)
    assert not faults.spend(1) and faults.throttled == 1
    now[0] += 0.25
    assert faults.spend(2) and not faults.spend(1)
    now[0] += 60
    assert faults.spend(10) and not faults.spend(1), "no burst credit beyond one second"


def test_choices_are_reproducible_with_a_seed() -> None:
    first, second = Faults(crash=0.5, seed=3), Faults(crash=0.5, seed=3)
    assert [first.crash_point() for _ in range(50)] == [second.crash_point() for _ in range(50)]
    assert {Faults(crash=1.0, seed=1).crash_point()} <= {"before", "after"}


def test_only_the_summary_table_is_throttled() -> None:
    assert is_summary_table("it-123-account-summary") and not is_summary_table("it-123-account-details")


def test_forced_crashes_fire_first_whatever_the_probability() -> None:
    """A test that needs a crash gets one: the soak once failed on a loaded machine with few, large batches."""
    faults = Faults.parse("crashes=3,seed=1")
    assert faults.active
    assert [faults.crash_point() for _ in range(5)] == ["before", "after", "before", None, None]
    assert faults.crashes == 3


def test_forced_throttles_refuse_the_first_writes_whatever_the_budget() -> None:
    """A loaded machine once sent the soak's writes too slowly to pass 100 units a second: nothing throttled."""
    faults = Faults.parse("throttles=2")
    assert faults.active
    assert [faults.spend(1) for _ in range(4)] == [False, False, True, True]
    assert (faults.throttled, faults.units_spent) == (2, 2)
