"""resolvers.loop_turns: long loops give the event loop turns; a request's slices take
turns one at a time."""

from __future__ import annotations

import asyncio
from itertools import pairwise

from resolvers.loop_turns import LoopTurns, SliceLine, in_slices


async def test_other_tasks_run_between_two_slices_but_not_before_the_first() -> None:
    seen: list[object] = []

    async def neighbour() -> None:
        seen.append("neighbour")

    task = asyncio.create_task(neighbour())
    async for some in in_slices(list(range(5)), size=2):
        seen.append(list(some))
    await task

    assert seen == [[0, 1], "neighbour", [2, 3], [4]]


async def test_loop_turns_yield_once_the_work_adds_up() -> None:
    turns = LoopTurns(every=10)
    ran = asyncio.Event()
    asyncio.get_running_loop().call_soon(ran.set)

    await turns.after(9)
    before = ran.is_set()
    await turns.after(1)

    assert before is False
    assert ran.is_set() is True
    assert turns.done == 0


async def test_a_requests_slices_run_one_per_turn_with_the_neighbours_in_between() -> None:
    line = SliceLine()
    order: list[str] = []

    async def slice_(name: str) -> None:
        await line.wait()
        order.append(name)
        line.done()

    async def neighbour() -> None:
        for step in range(6):
            order.append(f"n{step}")
            await asyncio.sleep(0)

    await asyncio.gather(slice_("a"), slice_("b"), slice_("c"), neighbour())

    # Woken together, the slices would have run back to back; in line, the neighbour
    # steps between each two.
    slices = [i for i, name in enumerate(order) if not name.startswith("n")]
    assert [order[i] for i in slices] == ["a", "b", "c"]
    assert all(later - earlier > 1 for earlier, later in pairwise(slices))


async def test_a_cancelled_slice_leaves_the_line_and_the_next_one_runs() -> None:
    line = SliceLine()
    ran: list[str] = []

    async def slice_(name: str) -> None:
        await line.wait()
        ran.append(name)
        line.done()

    first = asyncio.create_task(slice_("first"))
    second = asyncio.create_task(slice_("second"))
    await asyncio.sleep(0)  # both are waiting in line
    first.cancel()
    await asyncio.gather(first, second, return_exceptions=True)

    assert ran == ["second"]
