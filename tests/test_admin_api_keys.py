"""updateApiKey: who may change a key's label, owner and allowed models, what is validated,
what the audit trail keeps, and two Admins changing one key at once."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from models.api_key import ApiKey
from models.member import Role
from tests.admin_callers import CALLERS, audit_trail, gid, make_callers
from tests.factories import gql, make_key, make_member, make_org, make_token

UPDATE = """
mutation U($id: ID!, $label: String, $owner: ID, $models: [String!]) {
  updateApiKey(id: $id, label: $label, ownerId: $owner, allowedModels: $models) {
    label isTeamKey owner { email } allowedModels
  }
}
"""
LABEL_ONLY = """
mutation U($id: ID!, $label: String) { updateApiKey(id: $id, label: $label) { label } }
"""


@pytest.mark.parametrize("caller", CALLERS)
async def test_who_may_update_a_key(client: httpx.AsyncClient, caller: str) -> None:
    callers = await make_callers()
    key = await make_key(callers.org, label="Old label")

    result = await gql(
        client, callers.tokens[caller], LABEL_ONLY, id=gid("ApiKey", key.id), label="New label"
    )

    stored = await ApiKey.get(id=key.id)
    if caller in {"owner", "admin"}:
        assert result.errors is None
        assert result.data == {"updateApiKey": {"label": "New label"}}
        assert stored.label == "New label"
        assert await audit_trail(callers.org.id) == [
            ("apiKey.update", key.id, {"label": {"old": "Old label", "new": "New label"}})
        ]
    else:
        assert result.error_codes == ["FORBIDDEN"]
        assert stored.label == "Old label"
        assert await audit_trail(callers.org.id) == []


async def test_an_admin_changes_label_owner_and_models_together(
    client: httpx.AsyncClient,
) -> None:
    callers = await make_callers()
    key = await make_key(callers.org, label="Team key")

    result = await gql(
        client,
        callers.tokens["admin"],
        UPDATE,
        id=gid("ApiKey", key.id),
        label="  Alice's key ",
        owner=gid("Member", callers.member.id),
        models=["gpt-4", " claude-3-opus", "gpt-4"],
    )

    assert result.errors is None
    assert result.data == {
        "updateApiKey": {
            "label": "Alice's key",
            "isTeamKey": False,
            "owner": {"email": callers.member.email},
            "allowedModels": ["gpt-4", "claude-3-opus"],
        }
    }
    assert await audit_trail(callers.org.id) == [
        (
            "apiKey.update",
            key.id,
            {
                "label": {"old": "Team key", "new": "Alice's key"},
                "ownerMemberId": {"old": None, "new": callers.member.id},
                "allowedModels": {"old": None, "new": ["gpt-4", "claude-3-opus"]},
            },
        )
    ]


async def test_left_out_arguments_keep_their_value_and_null_clears_owner_and_models(
    client: httpx.AsyncClient,
) -> None:
    callers = await make_callers()
    key = await make_key(callers.org, callers.member, label="Personal", allowed_models=["gpt-4"])
    token = callers.tokens["owner"]

    kept = await gql(client, token, LABEL_ONLY, id=gid("ApiKey", key.id), label="Renamed")
    cleared = await gql(client, token, UPDATE, id=gid("ApiKey", key.id), owner=None, models=None)

    assert kept.data == {"updateApiKey": {"label": "Renamed"}}
    assert cleared.errors is None
    assert cleared.data == {
        "updateApiKey": {
            "label": "Renamed",
            "isTeamKey": True,
            "owner": None,
            "allowedModels": None,
        }
    }


async def test_another_tenants_key_answers_like_a_missing_one(client: httpx.AsyncClient) -> None:
    callers = await make_callers()
    other_key = await make_key(await make_org(), label="Theirs")

    theirs = await gql(
        client, callers.tokens["owner"], LABEL_ONLY, id=gid("ApiKey", other_key.id), label="Mine"
    )
    missing = await gql(
        client, callers.tokens["owner"], LABEL_ONLY, id=gid("ApiKey", 999_999), label="Mine"
    )

    assert theirs.error_codes == missing.error_codes == ["NOT_FOUND"]
    assert theirs.errors is not None and missing.errors is not None
    assert theirs.errors[0]["message"] == missing.errors[0]["message"] == "id: no such API key"
    assert (await ApiKey.get(id=other_key.id)).label == "Theirs"


async def test_another_tenants_member_cannot_own_a_key(client: httpx.AsyncClient) -> None:
    callers = await make_callers()
    key = await make_key(callers.org)
    stranger = await make_member(await make_org())

    result = await gql(
        client,
        callers.tokens["admin"],
        UPDATE,
        id=gid("ApiKey", key.id),
        owner=gid("Member", stranger.id),
    )
    missing = await gql(
        client, callers.tokens["admin"], UPDATE, id=gid("ApiKey", key.id), owner="garbage"
    )

    assert result.error_codes == missing.error_codes == ["NOT_FOUND"]
    assert result.errors is not None and result.errors[0]["message"] == "ownerId: no such member"
    assert (await ApiKey.get(id=key.id)).owner_id is None


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"label": "   "}, "label: 1 to 200 characters"),
        ({"label": "x" * 201}, "label: 1 to 200 characters"),
        ({"label": None}, "label: cannot be null; leave it out to keep the label"),
        ({"models": ["gpt-4", ""]}, "allowedModels[1]: a model alias of 1 to 100 characters"),
    ],
    ids=["blank-label", "long-label", "null-label", "empty-model"],
)
async def test_unusable_values_are_bad_user_input_naming_the_field(
    client: httpx.AsyncClient, variables: dict[str, object], message: str
) -> None:
    callers = await make_callers()
    key = await make_key(callers.org, label="Kept")

    result = await gql(
        client, callers.tokens["admin"], UPDATE, id=gid("ApiKey", key.id), **variables
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None and result.errors[0]["message"] == message
    assert (await ApiKey.get(id=key.id)).label == "Kept"
    assert await audit_trail(callers.org.id) == []


async def test_two_admins_changing_one_key_at_once_are_applied_in_turn(
    client: httpx.AsyncClient,
) -> None:
    callers = await make_callers()
    second_admin = await make_token(await make_member(callers.org, Role.ADMIN))
    key = await make_key(callers.org, label="Start")

    first, second = await asyncio.gather(
        gql(client, callers.tokens["admin"], LABEL_ONLY, id=gid("ApiKey", key.id), label="A"),
        gql(client, second_admin, LABEL_ONLY, id=gid("ApiKey", key.id), label="B"),
    )

    assert first.errors is None and second.errors is None
    trail = await audit_trail(callers.org.id)
    assert [action for action, _, _ in trail] == ["apiKey.update", "apiKey.update"]
    first_change, second_change = (changes["label"] for _, _, changes in trail)
    # Each entry's old value is what the change before it left: no lost update.
    assert first_change["old"] == "Start"
    assert second_change["old"] == first_change["new"]
    assert {first_change["new"], second_change["new"]} == {"A", "B"}
    assert (await ApiKey.get(id=key.id)).label == second_change["new"]
