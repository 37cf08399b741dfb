"""bench.datagen: the benchmark's skewed data set, checked on a small sample."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from bench.datagen import (
    BIG_SHARE,
    MODELS,
    DataPlan,
    OrgSpec,
    generate_rows,
    plan_directory,
)
from ingestion.log_row import LOG_COLUMNS

END = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
COLUMN = {name: i for i, name in enumerate((*LOG_COLUMNS, "ingested_at"))}


def stored(orgs: list[OrgSpec]) -> list[OrgSpec]:
    """Give the planned directory ids, as the loader does after storing it."""
    member, key = 1, 1
    for spec in orgs:
        spec.organization_id = spec.index + 1
        spec.member_ids = list(range(member, member + spec.members))
        spec.key_ids = list(range(key, key + len(spec.keys)))
        member += spec.members
        key += len(spec.keys)
    return orgs


def rows(count: int, seed: int = 1) -> list[tuple[object, ...]]:
    plan = DataPlan(rows=count, seed=seed, end=END)
    return list(generate_rows(plan, stored(plan_directory(plan)), END))


def test_directory_has_fifty_organizations_500_keys_and_1000_members() -> None:
    orgs = plan_directory(DataPlan(rows=1, end=END))

    assert len(orgs) == 50
    assert sum(len(o.keys) for o in orgs) == 500
    assert sum(o.members for o in orgs) == 1000
    assert (len(orgs[0].keys), orgs[0].members) == (200, 400)
    assert abs(sum(o.share for o in orgs) - 1) < 1e-9
    assert orgs[0].share == BIG_SHARE
    assert all(o.members >= 3 and len(o.keys) >= 2 for o in orgs)


def test_rows_are_skewed_as_the_issue_asks() -> None:
    sample = rows(5000)

    big = sum(1 for r in sample if r[COLUMN["organization_id"]] == 1) / len(sample)
    successful = sum(1 for r in sample if int(str(r[COLUMN["status_code"]])) < 300)
    assert len(sample) == 5000
    assert 0.37 < big < 0.43
    assert 0.93 < successful / len(sample) < 0.97
    assert {r[COLUMN["model"]] for r in sample} == {m.alias for m in MODELS}


def test_rows_lie_in_the_window_in_time_order_with_unique_request_ids() -> None:
    sample = rows(3000)
    plan = DataPlan(rows=3000, end=END)

    stamps = [r[COLUMN["timestamp"]] for r in sample]
    assert all(plan.start <= s < plan.end for s in stamps)  # type: ignore[operator]
    assert stamps == sorted(stamps)  # type: ignore[type-var]
    assert len({r[COLUMN["request_id"]] for r in sample}) == 3000


def test_costs_add_up_and_failed_requests_have_no_output() -> None:
    for row in rows(2000):
        provider, markup, fee, customer = (
            int(str(row[COLUMN[c]]))
            for c in (
                "provider_cost_nanos",
                "markup_nanos",
                "fixed_fee_nanos",
                "customer_cost_nanos",
            )
        )
        assert customer == provider + markup + fee
        assert row[COLUMN["total_tokens"]] == int(str(row[COLUMN["input_tokens"]])) + int(
            str(row[COLUMN["output_tokens"]])
        )
        if int(str(row[COLUMN["status_code"]])) >= 400:
            assert row[COLUMN["output_tokens"]] == 0
            assert row[COLUMN["error_message"]]
        assert "temperature" in orjson.loads(str(row[COLUMN["metadata"]]))


def test_personal_keys_are_used_by_their_owner() -> None:
    plan = DataPlan(rows=2000, end=END)
    orgs = stored(plan_directory(plan))
    owner_of = {
        spec.key_ids[k.index]: spec.member_ids[k.owner]
        for spec in orgs
        for k in spec.keys
        if k.owner is not None
    }
    for row in generate_rows(plan, orgs, END):
        key = int(str(row[COLUMN["api_key_id"]]))
        if key in owner_of:
            assert row[COLUMN["member_id"]] == owner_of[key]


def test_the_same_seed_gives_the_same_rows() -> None:
    assert rows(500, seed=3) == rows(500, seed=3)
    assert rows(500, seed=3) != rows(500, seed=4)
