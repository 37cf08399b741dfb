"""Error messages never suggest schema names ("Did you mean ...?"), whether the mistake is in
the document (a literal) or in the variables: the caller learns what is wrong, not what
else the schema holds (SECURITY.md)."""

from __future__ import annotations

from inspect import isawaitable
from typing import Any

import httpx
import pytest
from graphql import execute, parse, specified_rules

from graph.execution import AizeExecutor
from graph.extensions.document_cache import validate_document
from graph.library_executor import LibraryExecutor
from graph.schema import schema
from models.member import Role
from tests.factories import gql, make_member, make_org, make_token

USAGE_WITH = (
    "query Q($f: UsageFilter) {{ organization {{ usage(filter: {filter}) {{ timezone }} }} }}"
)

# (document, variables, the name the caller wrote, the schema name a suggestion would offer)
MISTAKES: dict[str, tuple[str, dict[str, Any], str, str]] = {
    "unknown field": ("{ organization { usag { timezone } } }", {}, "usag", "usage"),
    "unknown argument": (
        "{ organization { usage(filtr: {period: LAST_HOUR}) { timezone } } }",
        {},
        "filtr",
        "filter",
    ),
    "unknown type": (
        "query Q($f: UsageFiltr) { viewer { role } }",
        {},
        "UsageFiltr",
        "UsageFilter",
    ),
    "unknown input field, literal": (
        USAGE_WITH.format(filter="{perod: LAST_HOUR}"),
        {},
        "perod",
        "period",
    ),
    "unknown input field, variable": (
        USAGE_WITH.format(filter="$f"),
        {"f": {"perod": "LAST_HOUR"}},
        "perod",
        "period",
    ),
    "wrong enum value, literal": (
        USAGE_WITH.format(filter="{period: LAST_HOURS}"),
        {},
        "LAST_HOURS",
        "LAST_HOUR",
    ),
    "wrong enum value, variable": (
        USAGE_WITH.format(filter="$f"),
        {"f": {"period": "LAST_HOURS"}},
        "LAST_HOURS",
        "LAST_HOUR",
    ),
    "wrong enum value in a list, variable": (
        USAGE_WITH.format(filter="$f"),
        {"f": {"statusClasses": ["SUCCES"]}},
        "SUCCES",
        "SUCCESS",
    ),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
async def test_errors_carry_no_suggestions(client: httpx.AsyncClient, mistake: str) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    document, variables, written, suggestion = MISTAKES[mistake]

    result = await gql(client, token, document, **variables)

    assert result.data is None
    assert result.errors is not None
    assert set(result.error_codes) == {"BAD_USER_INPUT"}
    messages = " ".join(e["message"] for e in result.errors)
    assert written in messages
    assert "Did you mean" not in messages
    assert f"'{suggestion}'" not in messages


# At the source: graphql-core leaves suggestions out (hide_suggestions), so no message relies
# on ErrorCodes cutting them off afterwards.


@pytest.mark.parametrize(
    "mistake", [m for m, (_, variables, _, _) in MISTAKES.items() if not variables]
)
def test_validation_hides_suggestions(mistake: str) -> None:
    document, _, written, suggestion = MISTAKES[mistake]

    errors = validate_document(schema._schema, parse(document), tuple(specified_rules))

    messages = " ".join(e.message for e in errors)
    assert written in messages
    assert "Did you mean" not in messages
    assert f"'{suggestion}'" not in messages


@pytest.mark.parametrize("executor", [AizeExecutor, LibraryExecutor])
@pytest.mark.parametrize(
    "mistake", [m for m, (_, variables, _, _) in MISTAKES.items() if variables]
)
def test_variable_coercion_hides_suggestions(mistake: str, executor: type[LibraryExecutor]) -> None:
    # With the fast executor on and off (AIZE_FAST_EXECUTOR=false).
    document, variables, written, suggestion = MISTAKES[mistake]

    result = execute(
        schema._schema, parse(document), variable_values=variables, executor_class=executor
    )

    assert not isawaitable(result)
    messages = " ".join(e.message for e in result.errors or [])  # type: ignore[union-attr]
    assert written in messages
    assert "Did you mean" not in messages
    assert f"'{suggestion}'" not in messages
