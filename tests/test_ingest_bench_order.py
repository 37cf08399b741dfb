"""The ingest benchmark's record orders: arrival (sorted by timestamp) or shuffled."""

from __future__ import annotations

from datetime import datetime

from bench.ingest_bench import BenchOrg, generate

ORG = BenchOrg(organization_id=1, token="", keys=[(1, "sk-a", 7), (2, "sk-b", None)])


def test_arrival_order_is_the_same_records_sorted_by_timestamp() -> None:
    arrival, shuffled = generate(ORG, 500, 3, "arrival"), generate(ORG, 500, 3, "shuffled")
    arrival_instants = [datetime.fromisoformat(r["timestamp"]) for r in arrival]
    shuffled_instants = [datetime.fromisoformat(r["timestamp"]) for r in shuffled]

    assert arrival_instants == sorted(arrival_instants)
    assert shuffled_instants != sorted(shuffled_instants)
    assert sorted(r["requestId"] for r in arrival) == sorted(r["requestId"] for r in shuffled)
