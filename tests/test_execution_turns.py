"""graph.execution: completing a long list gives the event loop turns, so other requests
are served meanwhile and the request timeout fires during CPU-bound completion."""

from __future__ import annotations

import asyncio
import dataclasses

import strawberry

from graph.execution import YIELD_EVERY_FIELDS, AizeExecutor
from graph.extensions import SCHEMA_EXTENSIONS
from models.member import Role
from settings import Settings
from tests.factories import gql, make_member, make_org, make_token
from tests.http_clients import client_for
from web.app import create_app

# Set by a callback the resolver schedules: it runs at the event loop's next turn.
NEIGHBOUR_RAN = asyncio.Event()
# Items whose fields were completed.
COMPLETED = [0]


@strawberry.type
class Item:
    n: int

    @strawberry.field
    def neighbour_ran(self) -> bool:
        COMPLETED[0] += 1
        return NEIGHBOUR_RAN.is_set()


@strawberry.type
class Shelf:
    size: strawberry.Private[int]

    @strawberry.field
    def items(self) -> list[Item]:
        return [Item(n=n) for n in range(self.size)]


@strawberry.type
class Query:
    @strawberry.field
    async def shelf(self, size: int) -> Shelf:
        NEIGHBOUR_RAN.clear()
        asyncio.get_running_loop().call_soon(NEIGHBOUR_RAN.set)
        return Shelf(size=size)


turns_schema = strawberry.Schema(
    query=Query, extensions=SCHEMA_EXTENSIONS, execution_context_class=AizeExecutor
)
QUERY = "query($size: Int!) { shelf(size: $size) { items { n neighbourRan } } }"


async def test_a_long_list_is_completed_in_slices_with_other_work_in_between() -> None:
    size = 4 * YIELD_EVERY_FIELDS

    result = await turns_schema.execute(QUERY, variable_values={"size": size})

    assert result.errors is None
    assert result.data is not None
    items = result.data["shelf"]["items"]
    assert [item["n"] for item in items] == list(range(size))
    # The neighbour's callback ran after the first slice and before the last one.
    assert items[0]["neighbourRan"] is False
    assert items[-1]["neighbourRan"] is True


async def test_a_short_list_is_completed_without_a_turn() -> None:
    result = await turns_schema.execute(QUERY, variable_values={"size": 100})

    assert result.data is not None
    assert {item["neighbourRan"] for item in result.data["shelf"]["items"]} == {False}


async def test_the_timeout_fires_while_a_huge_list_is_being_completed(db: Settings) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    settings = dataclasses.replace(db, request_timeout_seconds=0.05, max_query_cost=10**9)
    app = create_app(settings, manage_database=False, graphql_schema=turns_schema)

    size = 300_000
    COMPLETED[0] = 0
    async with client_for(app) as http:
        # Far more than any machine completes in 0.05 s (hundreds of milliseconds of CPU).
        result = await gql(http, token, QUERY, size=size)

    # Cancelled while completing: without turns, every item was completed first.
    assert 0 < COMPLETED[0] < size
    assert result.data is None
    assert result.errors == [
        {
            "message": (
                "The query took longer than 0.05 s and was cancelled; ask for a shorter "
                "period or fewer fields."
            ),
            "extensions": {"code": "QUERY_TOO_COMPLEX", "timeoutSeconds": 0.05},
        }
    ]
