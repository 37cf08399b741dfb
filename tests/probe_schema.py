"""A small schema with the product's extensions, for behaviour the product schema lacks:
arbitrarily deep types, resolvers that fail in every way, block, or sleep in PostgreSQL.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import strawberry
from starlette.applications import Starlette
from tortoise.transactions import in_transaction

from graph.errors import NotFoundGraphQLError
from graph.extensions import SCHEMA_EXTENSIONS
from resolvers.errors import BadInputError, ForbiddenError, NotFoundError
from settings import Settings
from web.app import create_app


@dataclass
class ProbeEvents:
    """What the probe resolvers saw, for tests to assert on."""

    started: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: bool = False
    backend_pid: int | None = None


EVENTS = ProbeEvents()


@strawberry.type
class Folder:
    name: str

    @strawberry.field
    def child(self) -> Folder:
        return Folder(name=f"{self.name}/child")

    @strawberry.field(description="A folder has 3 children, whatever `first` asks for.")
    def children(self, first: int | None = 10) -> list[Folder]:
        return [Folder(name=f"{self.name}/{n}") for n in range(min(first or 0, 3))]

    @strawberry.field(description="12 versions: a list no argument bounds.")
    def versions(self) -> list[Folder]:
        return [Folder(name=f"{self.name}@{n}") for n in range(12)]

    @strawberry.field
    def tags(self) -> list[str]:
        return ["a", "b"]


@strawberry.type
class Query:
    @strawberry.field
    def folder(self) -> Folder:
        return Folder(name="root")

    @strawberry.field
    def boom(self) -> int:
        raise RuntimeError("connection to 10.0.0.7 failed: password authentication for 'aize'")

    @strawberry.field
    def forbidden(self) -> int:
        raise ForbiddenError("Only Admins and Owners can see this.")

    @strawberry.field
    def missing(self) -> int:
        raise NotFoundError("apiKeyId: no such API key")

    @strawberry.field
    def missing_coded(self) -> int:
        raise NotFoundGraphQLError("alertRuleId: no such alert rule")

    @strawberry.field
    def bad_input(self) -> int:
        raise BadInputError("filter.timezone: 'Mars/Olympus' is not an IANA time zone")

    @strawberry.field
    async def wait_forever(self) -> int:
        EVENTS.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            EVENTS.cancelled = True
            raise
        return 0

    @strawberry.field
    async def pg_sleep(self, seconds: float) -> int:
        async with in_transaction() as conn:
            rows = await conn.execute_query_dict("SELECT pg_backend_pid() AS pid")
            EVENTS.backend_pid = int(rows[0]["pid"])
            await conn.execute_query("SELECT pg_sleep($1)", [seconds])
        return 1


probe_schema = strawberry.Schema(query=Query, extensions=SCHEMA_EXTENSIONS)


def probe_app(settings: Settings) -> Starlette:
    """The product app serving the probe schema (same auth, limits and middleware)."""
    global EVENTS
    EVENTS = ProbeEvents()
    return create_app(settings, manage_database=False, graphql_schema=probe_schema)


def events() -> ProbeEvents:
    return EVENTS
