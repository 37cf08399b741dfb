"""graph.execution.AizeExecutor: plain scalar fields take a short path with the same answers
and the same errors (message, path, locations) as graphql-core's full path."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from strawberry.permission import BasePermission, PermissionExtension

from graph.execution import AizeExecutor, plain_leaves
from graph.schema import schema as aize_schema


class Never(BasePermission):
    message = "no"

    async def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Item:
    name: str
    maybe: str | None
    tags: list[str]
    scores: list[int | None]
    broken_list: list[int]

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    def fails(self) -> str:
        raise ValueError("cannot compute")

    @strawberry.field
    def wrong_null(self) -> str:
        return None  # type: ignore[return-value]

    @strawberry.field
    def with_argument(self, times: int) -> str:
        return self.name * times

    # A plain attribute, but guarded: it must take graphql-core's path (and be refused).
    secret: str = strawberry.field(
        default="secret", extensions=[PermissionExtension([Never()], use_directives=False)]
    )


ITEMS = [
    Item(name="a", maybe=None, tags=["x", "y"], scores=[1, None], broken_list=[1, None]),  # type: ignore[list-item]
    Item(name="b", maybe="m", tags=[], scores=[], broken_list=[]),
]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return ITEMS


fast = strawberry.Schema(query=Query, execution_context_class=AizeExecutor)
plain = strawberry.Schema(query=Query)


async def _both(query: str) -> tuple[Any, Any]:
    first, second = await fast.execute(query), await plain.execute(query)
    return first, second


def _errors(result: Any) -> list[tuple[str, Any, Any]]:
    return [(e.message, e.path, e.locations) for e in result.errors or ()]


async def test_plain_fields_answer_as_graphql_core_does() -> None:
    query = "{ items { name maybe tags scores shout withArgument(times: 2) } }"
    fast_result, plain_result = await _both(query)
    assert fast_result.errors is None
    assert fast_result.data == plain_result.data
    assert fast_result.data["items"][0] == {
        "name": "a",
        "maybe": None,
        "tags": ["x", "y"],
        "scores": [1, None],
        "shout": "A",
        "withArgument": "aa",
    }


@pytest.mark.parametrize(
    "query",
    [
        "{ items { name fails } }",
        "{ items { name wrongNull } }",
        "{ items { name brokenList } }",
        "{ items { name secret } }",
    ],
)
async def test_errors_are_the_same_message_path_and_location(query: str) -> None:
    fast_result, plain_result = await _both(query)
    assert fast_result.errors
    assert _errors(fast_result) == _errors(plain_result)
    assert fast_result.data == plain_result.data


def test_only_plain_fields_take_the_short_path() -> None:
    leaves = plain_leaves(fast._schema)
    assert ("Item", "name") in leaves and ("Item", "shout") in leaves
    assert ("Item", "tags") in leaves and leaves[("Item", "scores")].item_nullable is True
    # Arguments, permissions and object fields go through graphql-core's whole path.
    assert ("Item", "withArgument") not in leaves
    assert ("Item", "secret") not in leaves
    assert ("Query", "items") not in leaves


def test_no_field_guarded_by_a_permission_takes_the_short_path() -> None:
    leaves = plain_leaves(aize_schema._schema)
    for type_name, named in aize_schema._schema.type_map.items():
        for field_name, field in getattr(named, "fields", {}).items():
            definition = (field.extensions or {}).get("strawberry-definition")
            if getattr(definition, "extensions", None):
                assert (type_name, field_name) not in leaves
    assert ("CostSummary", "customerCost") in leaves
    assert ("TrendColumns", "customerCost") in leaves
