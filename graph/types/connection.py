"""Relay connections: PageInfo, and Edge/Connection generic over the node type.

`Connection[RequestLogType]` appears in the schema as `RequestLogConnection` (and its edges
as `RequestLogEdge`); a later list (the wallet ledger) gets its own by naming its node type.
Pages come from `resolvers.pagination` (keyset cursors); `connection_from_page` shapes them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import strawberry

from graph.scalars import BigInt
from resolvers.pagination import Page

NodeT = TypeVar("NodeT")
RowT = TypeVar("RowT")


@strawberry.type(description="Where this page sits in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description=(
            "Older rows follow: pass endCursor as `after`. On a backward page (`last`), "
            "true when it was requested with `before`."
        )
    )
    has_previous_page: bool = strawberry.field(
        description=(
            "Newer rows precede: true when this page was requested with `after`; on a "
            "backward page (`last`), when newer rows exist (pass startCursor as `before`)."
        )
    )
    start_cursor: str | None = strawberry.field(
        description=(
            "Cursor of the first edge; where a connection pages backwards (`requestLogs`), "
            "pass it as `before` for the newer page."
        )
    )
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last edge; pass it as `after` for the next page."
    )


@strawberry.type(description="A node and its cursor.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(
        description="Opaque position; pass it as `after` (or, where offered, `before`)."
    )
    node: NodeT = strawberry.field(description="The object at this position.")


@strawberry.type(description="One page of a list, newest first (Relay cursor connection).")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(
        description="This page's edges, in the connection's order."
    )
    page_info: PageInfo = strawberry.field(
        description="Where this page sits: cursors and whether more pages follow."
    )
    # Counting every matching row is a query of its own; it runs only if totalCount is asked.
    count_rows: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="How many rows match across all pages; costs a count, so ask only if needed."
    )
    async def total_count(self) -> BigInt:
        return BigInt(await self.count_rows())


def connection_from_page(
    page: Page[RowT],
    to_node: Callable[[RowT], NodeT],
    count_rows: Callable[[], Awaitable[int]],
) -> Connection[NodeT]:
    """The connection for one page; `count_rows` is awaited only if totalCount is selected."""
    return Connection(
        edges=[
            Edge(cursor=cursor, node=to_node(row))
            for row, cursor in zip(page.rows, page.cursors, strict=True)
        ],
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.start_cursor,
            end_cursor=page.end_cursor,
        ),
        count_rows=count_rows,
    )
