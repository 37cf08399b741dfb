"""graph.execution.AizeExecutor: plain scalar and object fields take a short path with the same
answers and the same errors (message, path, locations, order) as graphql-core's full path."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema.config import StrawberryConfig

import graph.execution
from graph.execution import AizeExecutor, PlainLeaf, PlainObject, plain_fields
from graph.extensions import SCHEMA_EXTENSIONS
from graph.library_executor import LibraryExecutor
from graph.schema import schema as aize_schema


class Never(BasePermission):
    message = "no"

    async def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Person(Named):
    age: int


@strawberry.type
class Detail:
    label: str

    @strawberry.field
    async def later(self) -> str:
        return self.label + "!"

    @strawberry.field
    async def later_fails(self) -> str:
        raise ValueError("later, no")

    @strawberry.field
    def must(self) -> str:
        return None  # type: ignore[return-value]

    @strawberry.field
    def may_fail(self) -> str | None:
        raise ValueError("may fail")


def _details() -> list[Detail]:
    return [Detail(label="d1"), Detail(label="d2")]


@strawberry.type
class Item:
    name: str
    colour: Colour
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
    detail: Detail = strawberry.field(default_factory=lambda: Detail(label="one"))
    maybe_detail: Detail | None = None
    details: list[Detail] = strawberry.field(default_factory=_details)
    sparse_details: list[Detail | None] = strawberry.field(
        default_factory=lambda: [Detail(label="s"), None]
    )
    broken_details: list[Detail] = strawberry.field(
        default_factory=lambda: [Detail(label="b"), None]  # type: ignore[list-item]
    )
    person: Person = strawberry.field(default_factory=lambda: Person(name="p", age=3))
    # The wrong object for its type: is_type_of refuses it on graphql-core's path.
    impostor: Person = strawberry.field(
        default_factory=lambda: Detail(label="x")  # type: ignore[arg-type, return-value]
    )

    @strawberry.field
    def computed_detail(self) -> Detail:
        return Detail(label=self.name * 2)

    @strawberry.field
    def failing_detail(self) -> Detail | None:
        raise ValueError("no detail")

    # Like a log's apiKey: at hand for some sources, loaded for others.
    @strawberry.field(graphql_type=Detail | None)
    def sometimes_later(self) -> Detail | Awaitable[Detail] | None:
        if self.name == "a":
            return Detail(label="now")

        async def load() -> Detail:
            return Detail(label="loaded")

        return load()


ITEMS = [
    Item(
        name="a",
        colour=Colour.RED,
        maybe=None,
        tags=["x", "y"],
        scores=[1, None],
        broken_list=[1, None],  # type: ignore[list-item]
    ),
    Item(
        name="b",
        colour=Colour.BLUE,
        maybe="m",
        tags=[],
        scores=[],
        broken_list=[],
        maybe_detail=Detail(label="mb"),
    ),
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
        # object fields: errors inside them, nulls propagating out of them
        "{ items { name detail { label mayFail } } }",
        "{ items { name maybeDetail { label must } } }",
        "{ items { name detail { label must } } }",
        "{ items { name details { label laterFails } } }",
        "{ items { name sparseDetails { label later mayFail } } }",
        "{ items { name brokenDetails { label } } }",
        "{ items { name failingDetail { label } } }",
        "{ items { name impostor { name age } } }",
        # several errors, in the order graphql-core reports them
        "{ items { fails maybeDetail { must } detail { mayFail later } secret } }",
    ],
)
async def test_errors_are_the_same_message_path_and_location(query: str) -> None:
    fast_result, plain_result = await _both(query)
    assert fast_result.errors
    assert _errors(fast_result) == _errors(plain_result)
    assert fast_result.data == plain_result.data


async def test_plain_object_fields_answer_as_graphql_core_does() -> None:
    query = (
        "{ items { detail { label later } maybeDetail { label } details { label later } "
        "sparseDetails { label } computedDetail { label } person { name age __typename } "
        "... on Item { d: detail { ... on Detail { label } } } sometimesLater { label later } "
        "} }"
    )
    fast_result, plain_result = await _both(query)
    assert fast_result.errors is None
    assert fast_result.data == plain_result.data
    assert fast_result.data["items"][1] == {
        "detail": {"label": "one", "later": "one!"},
        "maybeDetail": {"label": "mb"},
        "details": [{"label": "d1", "later": "d1!"}, {"label": "d2", "later": "d2!"}],
        "sparseDetails": [{"label": "s"}, None],
        "computedDetail": {"label": "bb"},
        "person": {"name": "p", "age": 3, "__typename": "Person"},
        "d": {"label": "one"},
        "sometimesLater": {"label": "loaded", "later": "loaded!"},
    }
    assert fast_result.data["items"][0]["sometimesLater"] == {"label": "now", "later": "now!"}


async def test_plain_object_fields_need_no_resolve_info(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    original = AizeExecutor.build_resolve_info

    def counting(self: AizeExecutor, field_def: Any, *args: Any) -> Any:
        built.append(args[1].name + "." + args[0][0].name.value)
        return original(self, field_def, *args)

    monkeypatch.setattr(AizeExecutor, "build_resolve_info", counting)
    result = await fast.execute("{ items { detail { label later } details { label } } }")

    assert result.errors is None
    # Only the asynchronous resolver needs graphql-core's whole path: once per Detail.
    assert sorted(set(built)) == ["Detail.later"]
    assert len(built) == 2


def test_only_plain_fields_take_the_short_path() -> None:
    fields = plain_fields(fast._schema)
    for name in ("name", "shout", "tags", "scores"):
        assert isinstance(fields[("Item", name)], PlainLeaf)
    assert fields[("Item", "scores")].item_nullable is True
    for name in ("detail", "sparseDetails", "computedDetail"):
        assert isinstance(fields[("Item", name)], PlainObject)
    # A method of the root taking only `self` is plain too.
    assert isinstance(fields[("Query", "items")], PlainObject)
    # Arguments and permissions go through graphql-core's whole path.
    assert ("Item", "withArgument") not in fields
    assert ("Item", "secret") not in fields


def test_no_field_guarded_by_a_permission_takes_the_short_path() -> None:
    fields = plain_fields(aize_schema._schema)
    for type_name, named in aize_schema._schema.type_map.items():
        for field_name, field in getattr(named, "fields", {}).items():
            definition = (field.extensions or {}).get("strawberry-definition")
            if getattr(definition, "extensions", None):
                assert (type_name, field_name) not in fields
    assert isinstance(fields[("CostSummary", "customerCost")], PlainLeaf)
    assert isinstance(fields[("TrendColumns", "customerCost")], PlainLeaf)


@pytest.mark.parametrize(
    "query",
    [
        # aliases, the same field twice, __typename, an enum
        "{ items { first: name second: name __typename colour name } }",
        # fragments, inline fragments, directives
        "fragment F on Item { shout tags } "
        "query { items { ...F ... on Item { maybe } name @include(if: false) "
        "colour @skip(if: false) } }",
        # the answer keeps the selection's order when plain and other fields interleave
        "{ items { withArgument(times: 1) name fails maybe secret shout } }",
    ],
)
async def test_selections_answer_exactly_as_graphql_core_does(query: str) -> None:
    fast_result, plain_result = await _both(query)
    assert _errors(fast_result) == _errors(plain_result)
    assert fast_result.data == plain_result.data
    if fast_result.data is not None:
        assert [list(item) for item in fast_result.data["items"]] == [
            list(item) for item in plain_result.data["items"]
        ]


# Each plain reader counts its calls: the short path must call it once, like graphql-core.
CALLS: dict[str, int] = {}


def _count(name: str) -> None:
    CALLS[name] = CALLS.get(name, 0) + 1


@strawberry.type
class Counted:
    label: str

    @strawberry.field
    def raises(self) -> str | None:
        _count("raises")
        raise ValueError("raised once")

    @strawberry.field
    def raises_required(self) -> str:
        _count("raises_required")
        raise ValueError("required, raised once")

    @strawberry.field
    def refused(self) -> int | None:
        _count("refused")
        return "not a number"  # type: ignore[return-value]

    @strawberry.field
    def null_required(self) -> str:
        _count("null_required")
        return None  # type: ignore[return-value]

    @strawberry.field
    def object_raises(self) -> Detail | None:
        _count("object_raises")
        raise ValueError("object raised once")

    @strawberry.field
    def wrong_object(self) -> Person | None:
        _count("wrong_object")
        return Detail(label="not a person")  # type: ignore[return-value]


@strawberry.type
class CountedQuery:
    @strawberry.field
    def counted(self) -> list[Counted]:
        return [Counted(label="a"), Counted(label="b")]


@pytest.mark.parametrize(
    ("field", "selection"),
    [
        ("raises", "raises"),
        ("raises_required", "raisesRequired"),
        ("refused", "refused"),
        ("null_required", "nullRequired"),
        ("object_raises", "objectRaises { label }"),
        ("wrong_object", "wrongObject { name }"),
    ],
)
async def test_a_plain_method_runs_once_per_object_even_when_it_fails(
    field: str, selection: str
) -> None:
    query = "{ counted { label " + selection + " } }"
    answers, calls = [], []
    for executor in (AizeExecutor, LibraryExecutor):
        CALLS.clear()
        result = await strawberry.Schema(
            query=CountedQuery, execution_context_class=executor
        ).execute(query)
        answers.append((result.data, _errors(result)))
        calls.append(dict(CALLS))
    assert answers[0][1], "the field fails"
    assert answers[0] == answers[1]
    # As many calls as graphql-core makes: once per object (a non-null field's error ends
    # the list at its first object, on both executors).
    assert calls[0] == calls[1] == {field: 1 if field.endswith("required") else 2}


def _reading_resolver(calls: list[str]) -> Any:
    """A StrawberryConfig.default_resolver that reads dicts by key and records each read."""

    def resolve(source: Any, name: str) -> Any:
        calls.append(name)
        return source[name] if isinstance(source, dict) else getattr(source, name)

    return resolve


@strawberry.type
class Row:
    name: str
    size: int | None


@strawberry.type
class RowQuery:
    @strawberry.field
    def rows(self) -> list[Row]:
        return [{"name": "a", "size": 1}, {"name": "b", "size": None}]  # type: ignore[list-item]


async def test_the_configured_default_resolver_is_honoured() -> None:
    fast_calls: list[str] = []
    library_calls: list[str] = []
    answers = []
    for executor, calls in ((AizeExecutor, fast_calls), (LibraryExecutor, library_calls)):
        config = StrawberryConfig(default_resolver=_reading_resolver(calls))
        schema = strawberry.Schema(query=RowQuery, config=config, execution_context_class=executor)
        result = await schema.execute("{ rows { name size } }")
        answers.append((result.data, _errors(result)))

    assert answers[0] == answers[1]
    assert answers[0] == ({"rows": [{"name": "a", "size": 1}, {"name": "b", "size": None}]}, [])
    assert fast_calls == library_calls == ["name", "size", "name", "size"]


class Hooked(SchemaExtension):
    """An extension with a resolve hook, as OpenTelemetry's, Sentry's and Apollo's have."""

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        return _next(root, info, *args, **kwargs)


async def test_an_extension_with_a_resolve_hook_turns_the_short_path_off_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    built: list[str] = []
    original = AizeExecutor.build_resolve_info

    def counting(self: AizeExecutor, field_def: Any, *args: Any) -> Any:
        built.append(args[0][0].name.value)
        return original(self, field_def, *args)

    monkeypatch.setattr(AizeExecutor, "build_resolve_info", counting)
    monkeypatch.setattr(graph.execution, "_REPORTED_HOOKS", set())
    hooked = strawberry.Schema(
        query=Query, extensions=[Hooked], execution_context_class=AizeExecutor
    )
    query = "{ items { name shout } }"

    with caplog.at_level(logging.WARNING, logger="graph.execution"):
        first = await hooked.execute(query)
        second = await hooked.execute(query)

    assert first.data == second.data == (await plain.execute(query)).data
    # graphql-core's whole path: a resolve info for every field of every item.
    assert built.count("name") == 2 * len(ITEMS)
    warnings = [r.getMessage() for r in caplog.records if r.name == "graph.execution"]
    assert len(warnings) == 1
    assert "with a resolve hook run (Hooked)" in warnings[0]


def test_the_services_own_extensions_keep_the_short_path_on() -> None:
    hooked = [e.__name__ for e in SCHEMA_EXTENSIONS if e._implements_resolve()]  # type: ignore[arg-type]
    assert hooked == []


def test_tracing_extensions_have_a_resolve_hook() -> None:
    # Strawberry's OpenTelemetry (AIZE_OTEL_TRACES) and Apollo tracing extensions turn the
    # short path off (docs/PERFORMANCE.md, "The fast executor").
    from strawberry.extensions.tracing import ApolloTracingExtension, OpenTelemetryExtension

    assert OpenTelemetryExtension._implements_resolve()  # type: ignore[arg-type]
    assert ApolloTracingExtension._implements_resolve()  # type: ignore[arg-type]
