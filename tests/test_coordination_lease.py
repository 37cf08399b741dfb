"""The background lease: one holder at a time, renewed by its holder, taken once expired."""

from __future__ import annotations

import asyncio

from coordination.lease import claim_lease, database_now_ms, read_lease, release_lease
from settings import Settings

LONG = 60_000  # ms: never expires during a test


async def test_the_first_claim_takes_the_lease_in_term_one(db: Settings) -> None:
    before = await database_now_ms()

    state = await claim_lease("background", "a", LONG)

    assert state is not None
    assert (state.holder, state.term) == ("a", 1)
    assert before <= state.acquired_at_ms
    assert state.expires_at_ms - state.acquired_at_ms == LONG


async def test_the_holder_renews_without_a_new_term_and_others_are_refused(db: Settings) -> None:
    first = await claim_lease("background", "a", LONG)
    refused = await claim_lease("background", "b", LONG)
    renewed = await claim_lease("background", "a", LONG)

    assert first is not None and renewed is not None
    assert refused is None
    assert (renewed.holder, renewed.term) == ("a", 1)
    assert renewed.acquired_at_ms == first.acquired_at_ms
    assert renewed.expires_at_ms >= first.expires_at_ms
    assert await read_lease("background") == renewed


async def test_an_expired_lease_goes_to_the_next_claimant_in_a_new_term(db: Settings) -> None:
    # A lease of 0 ms has expired by the time anyone else asks.
    assert await claim_lease("background", "a", 0) is not None

    taken = await claim_lease("background", "b", LONG)
    late = await claim_lease("background", "a", LONG)

    assert taken is not None
    assert (taken.holder, taken.term) == ("b", 2)
    assert late is None


async def test_a_released_lease_is_taken_at_once_and_only_its_holder_can_release(
    db: Settings,
) -> None:
    await claim_lease("background", "a", LONG)

    assert await release_lease("background", "b") is False
    assert await claim_lease("background", "b", LONG) is None
    assert await release_lease("background", "a") is True
    taken = await claim_lease("background", "b", LONG)

    assert taken is not None
    assert (taken.holder, taken.term) == ("b", 2)


async def test_leases_of_different_names_are_independent(db: Settings) -> None:
    assert await claim_lease("background", "a", LONG) is not None
    other = await claim_lease("folding", "b", LONG)

    assert other is not None
    assert (other.holder, other.term) == ("b", 1)


async def test_of_many_processes_racing_for_a_free_lease_exactly_one_wins(db: Settings) -> None:
    results = await asyncio.gather(*(claim_lease("background", f"p{i}", LONG) for i in range(12)))

    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0].term == 1
    assert await read_lease("background") == winners[0]
