"""Strings with NUL characters are refused before anything runs, on both backends alike."""

from __future__ import annotations

import httpx

from models.member import Role
from models.organization import Organization
from tests.factories import gql, make_member, make_org, make_token

DEPOSIT = 'mutation D($note: String) { depositFunds(amount: "5", note: $note) { note } }'


async def _owner(org: Organization) -> str:
    return await make_token(await make_member(org, Role.OWNER))


async def test_a_nul_in_a_string_literal_is_bad_user_input_and_nothing_runs(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    result = await gql(
        client,
        await _owner(org),
        'mutation { depositFunds(amount: "5", note: "paid\\u0000") { note } }',
    )

    assert result.status == 200
    assert result.data is None
    assert result.errors is not None
    assert [(e["message"], e["extensions"]["code"]) for e in result.errors] == [
        ("Strings may not contain NUL characters (\\u0000).", "BAD_USER_INPUT")
    ]
    await org.refresh_from_db()
    assert org.wallet_balance_nanos == 0


async def test_a_nul_in_a_variable_is_bad_user_input_naming_the_variable(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    result = await gql(client, await _owner(org), DEPOSIT, note="paid\x00")

    assert result.errors is not None
    assert [(e["message"], e["extensions"]["code"]) for e in result.errors] == [
        ("Variable '$note': strings may not contain NUL characters (\\u0000).", "BAD_USER_INPUT")
    ]
    await org.refresh_from_db()
    assert org.wallet_balance_nanos == 0


async def test_a_nul_deep_inside_a_json_variable_is_refused_too(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    result = await gql(
        client,
        await _owner(org),
        "query Q($f: UsageFilter) { organization { usage(filter: $f) { timezone } } }",
        f={"models": ["gpt-4", "gpt\x00-4o"]},
    )

    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_strings_without_nul_characters_pass(client: httpx.AsyncClient) -> None:
    org = await make_org()
    result = await gql(client, await _owner(org), DEPOSIT, note="paid in full \u00e9\u4e2d")

    assert result.errors is None
    assert result.data == {"depositFunds": {"note": "paid in full \u00e9\u4e2d"}}


def test_only_a_query_that_could_spell_a_nul_has_its_literals_visited() -> None:
    from graph.extensions.document_cache import _has_hooks
    from graph.extensions.nul_characters import nul_rule

    assert not _has_hooks(nul_rule({}, "{ viewer { role } }"))
    assert _has_hooks(nul_rule({}, '{ viewer(note: "a\\u0000") { role } }'))
    assert _has_hooks(nul_rule({}, '{ viewer(note: "a\x00") { role } }'))
    assert _has_hooks(nul_rule({}, None))
