"""Leadership: one process leads the background work; it steps down when its lease lapses
and another takes over; loops wait while they do not lead."""

from __future__ import annotations

import argparse
import asyncio

from cli.leader import leader_command
from coordination.leadership import Leadership
from coordination.lease import claim_lease, read_lease
from settings import Settings


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_one_of_two_processes_leads_and_the_other_waits(db: Settings) -> None:
    first = Leadership(30, holder="first")
    second = Leadership(30, holder="second")

    assert await first.renew_once() is True
    assert await second.renew_once() is False

    assert (first.is_leader(), second.is_leader()) == (True, False)
    assert first.term == 1
    assert second.term is None


async def test_a_clean_shutdown_hands_the_lease_over_at_once(db: Settings) -> None:
    first = Leadership(30, holder="first")
    second = Leadership(30, holder="second")
    await first.renew_once()
    waiting = asyncio.create_task(second.wait_until_leader())

    await first.stop()
    assert await second.renew_once() is True
    await asyncio.wait_for(waiting, 5)

    assert first.is_leader() is False
    assert second.term == 2
    lease = await read_lease("background")
    assert lease is not None and lease.holder == "second"


async def test_a_hung_leader_stops_leading_when_its_lease_runs_out_by_its_own_clock(
    db: Settings,
) -> None:
    clock = Clock()
    leader = Leadership(30, holder="hung", monotonic=clock)
    await leader.renew_once()
    assert leader.is_leader()

    # Its event loop was stuck for longer than the lease (less the drift margin, 10%).
    clock.now += 27.0
    assert leader.is_leader() is False

    # Meanwhile another process took the expired lease (here: claimed with a lease that is
    # treated as expired, as the hung holder's is on the database's clock).
    await claim_lease("background", "hung", 0)
    assert await claim_lease("background", "other", 30_000) is not None
    # Waking up, the hung process cannot renew, and no turn of its own starts.
    assert await leader.renew_once() is False
    waiting = asyncio.create_task(leader.wait_until_leader())
    await asyncio.sleep(0)
    assert not waiting.done()
    waiting.cancel()


async def test_a_leader_renewing_in_time_keeps_leading_in_one_term(db: Settings) -> None:
    clock = Clock()
    leader = Leadership(30, holder="steady", monotonic=clock)
    for _ in range(5):
        assert await leader.renew_once() is True
        clock.now += leader.renew_seconds
        assert leader.is_leader()

    assert leader.term == 1


async def test_without_election_every_process_leads(db: Settings) -> None:
    one = Leadership(30, enabled=False, holder="one")
    two = Leadership(30, enabled=False, holder="two")

    await asyncio.wait_for(one.wait_until_leader(), 1)
    await asyncio.wait_for(two.wait_until_leader(), 1)

    assert (one.is_leader(), two.is_leader()) == (True, True)
    assert await read_lease("background") is None


async def test_the_renewal_task_takes_the_lease_and_releases_it_on_stop(db: Settings) -> None:
    leadership = Leadership(30, holder="served")
    leadership.start()
    await asyncio.wait_for(leadership.wait_until_leader(), 10)

    await leadership.stop()

    lease = await read_lease("background")
    assert lease is not None and lease.holder == "served"
    assert lease.expires_at_ms == 0


async def test_the_leader_command_shows_the_lease_for_operators(db: Settings) -> None:
    assert await leader_command(argparse.Namespace()) == {
        "lease": "background",
        "held": False,
        "holder": None,
        "term": 0,
    }
    await claim_lease("background", "host:4242:abcd", 60_000)

    shown = await leader_command(argparse.Namespace())

    assert (shown["held"], shown["holder"], shown["term"]) == (True, "host:4242:abcd", 1)
    assert isinstance(shown["expiresInMs"], int) and 0 < shown["expiresInMs"] <= 60_000
    assert isinstance(shown["heldForMs"], int) and 0 <= shown["heldForMs"] < 60_000
