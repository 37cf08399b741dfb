"""resolvers.rollup_reader: many windows, overlapping or not, in one statement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.member import Role
from resolvers import rollup_reader
from resolvers.periods import TimeRange
from resolvers.rollup_reader import read_usage
from resolvers.scope import LogFilter, Scope
from resolvers.time_slices import Grain, decompose
from resolvers.usage_dimensions import UsageDimension
from settings import Settings
from tests.factories import make_key, make_member, make_org, make_record, store
from tests.query_counter import count_queries

BASE = datetime(2024, 5, 1, tzinfo=UTC)


async def _org_with_hourly_logs() -> tuple[Scope, list[datetime]]:
    """One request every 7 minutes 13 seconds for three days, models alternating."""
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    stamps = [BASE + timedelta(seconds=433 * i) for i in range(600)]
    await store(
        *(
            make_record(org, key, owner, at, model=("a", "b")[i % 2], latency_ms=i)
            for i, at in enumerate(stamps)
        )
    )
    scope = Scope(organization_id=org.id, member_id=None, viewer_member_id=owner.id, sees_team=True)
    return scope, stamps


def _windows() -> list[TimeRange]:
    return [
        TimeRange(BASE + timedelta(hours=3, seconds=17), BASE + timedelta(days=2, seconds=5)),
        # Overlaps the first, with different sub-quarter edges.
        TimeRange(BASE + timedelta(hours=20, minutes=7), BASE + timedelta(days=2, hours=9)),
        TimeRange(BASE, BASE + timedelta(days=3)),
        TimeRange(BASE + timedelta(minutes=1), BASE + timedelta(minutes=2)),
    ]


@pytest.mark.parametrize("signed", [False, True])
async def test_overlapping_windows_each_count_every_request_once(
    db: Settings, signed: bool
) -> None:
    scope, stamps = await _org_with_hourly_logs()
    windows = _windows()
    log_filter = LogFilter(time_range=windows[2], timezone=ZoneInfo("UTC"))
    slices = [decompose(w, signed=signed) for w in windows]
    # The signed reading subtracts somewhere (the first window's first three hours).
    assert any(piece.sign < 0 for window in slices for piece in window) is signed

    with count_queries() as queries:
        results = await read_usage(scope, log_filter, slices, (UsageDimension.MODEL,))

    assert queries.count == 1
    for window, by_model in zip(windows, results, strict=True):
        inside = [i for i, at in enumerate(stamps) if window.contains(at)]
        expected = {
            (model,): sum(1 for i in inside if ("a", "b")[i % 2] == model) for model in ("a", "b")
        }
        assert {k: m.requests for k, m in by_model.items()} == {
            k: v for k, v in expected.items() if v
        }
        assert sum(m.latency_ms_sum for m in by_model.values()) == sum(inside)


async def test_windows_read_alike_by_slot_index_and_by_bucket_start(
    db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    scope, _ = await _org_with_hourly_logs()
    windows = [decompose(w, signed=True) for w in _windows()]
    log_filter = LogFilter(time_range=_windows()[2], timezone=ZoneInfo("UTC"))

    by_index = await read_usage(scope, log_filter, windows)
    monkeypatch.setattr(rollup_reader, "_MAX_CASE_ARMS", 0)
    by_bucket_start = await read_usage(scope, log_filter, windows)

    assert by_index == by_bucket_start
    assert {s.grain for w in windows for s in w} == {
        Grain.DAY,
        Grain.HOUR,
        Grain.QUARTER,
        Grain.RAW,
    }


async def test_no_windows_need_no_query(db: Settings) -> None:
    scope, _ = await _org_with_hourly_logs()
    log_filter = LogFilter(time_range=_windows()[2], timezone=ZoneInfo("UTC"))

    with count_queries() as queries:
        results = await read_usage(scope, log_filter, [[], []])

    assert results == [{}, {}]
    assert queries.count == 0
