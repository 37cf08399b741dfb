"""Member administration: invite, remove, change a role, transfer ownership. Who may do
each, the last-Owner rules, another tenant's ids, and what removal does to tokens and keys."""

from __future__ import annotations

import httpx
import pytest

from models.access_token import AccessToken
from models.api_key import ApiKey
from models.member import Member, Role
from tests.admin_callers import CALLERS, audit_trail, gid, make_callers
from tests.factories import gql, make_key, make_member, make_org, make_token

INVITE = """
mutation I($email: String!, $name: String, $role: Role) {
  inviteMember(email: $email, name: $name, role: $role) { email name role }
}
"""
REMOVE = "mutation R($id: ID!) { removeMember(id: $id) { email } }"
ROLE = "mutation C($id: ID!, $role: Role!) { changeMemberRole(id: $id, role: $role) { role } }"
TRANSFER = "mutation T($id: ID!) { transferOwnership(memberId: $id) { email role } }"
MEMBERS = "{ organization { members { email role } } }"


def message(result: object) -> str:
    errors = getattr(result, "errors", None)
    assert errors, "expected an error"
    return str(errors[0]["message"])


# --- inviteMember ---------------------------------------------------------------------------


@pytest.mark.parametrize("caller", CALLERS)
async def test_who_may_invite_a_member(client: httpx.AsyncClient, caller: str) -> None:
    callers = await make_callers()

    result = await gql(client, callers.tokens[caller], INVITE, email="new@example.com")

    invited = await Member.get_or_none(organization_id=callers.org.id, email="new@example.com")
    if caller in {"owner", "admin"}:
        assert result.data == {
            "inviteMember": {"email": "new@example.com", "name": "new", "role": "MEMBER"}
        }
        assert invited is not None
        assert await audit_trail(callers.org.id) == [
            (
                "member.invite",
                invited.id,
                {
                    "email": {"old": None, "new": "new@example.com"},
                    "name": {"old": None, "new": "new"},
                    "role": {"old": None, "new": "MEMBER"},
                },
            )
        ]
    else:
        assert result.error_codes == ["FORBIDDEN"]
        assert invited is None


async def test_only_owners_invite_admins_and_nobody_invites_an_owner(
    client: httpx.AsyncClient,
) -> None:
    callers = await make_callers()

    by_admin = await gql(
        client, callers.tokens["admin"], INVITE, email="a@example.com", role="ADMIN"
    )
    by_owner = await gql(
        client, callers.tokens["owner"], INVITE, email="b@example.com", role="ADMIN"
    )
    owner = await gql(client, callers.tokens["owner"], INVITE, email="c@example.com", role="OWNER")

    assert by_admin.error_codes == ["FORBIDDEN"]
    assert message(by_admin) == "Only Owners can invite an Admin."
    assert by_owner.data == {
        "inviteMember": {"email": "b@example.com", "name": "b", "role": "ADMIN"}
    }
    assert owner.error_codes == ["BAD_USER_INPUT"]
    assert message(owner) == "role: nobody is invited as an Owner; use transferOwnership"
    emails = await Member.filter(organization_id=callers.org.id).values_list("email", flat=True)
    assert "a@example.com" not in emails and "c@example.com" not in emails


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("not-an-address", "email: 'not-an-address' is not an email address"),
        ("a@localhost", "email: 'a@localhost' is not an email address"),
    ],
)
async def test_an_unusable_email_is_bad_user_input(
    client: httpx.AsyncClient, email: str, expected: str
) -> None:
    callers = await make_callers()

    result = await gql(client, callers.tokens["admin"], INVITE, email=email)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert message(result) == expected


async def test_an_existing_members_email_is_bad_user_input(client: httpx.AsyncClient) -> None:
    callers = await make_callers()

    result = await gql(client, callers.tokens["admin"], INVITE, email=callers.member.email.upper())

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert message(result) == f"email: {callers.member.email.upper()} is already a member"


# --- removeMember ---------------------------------------------------------------------------


@pytest.mark.parametrize("caller", CALLERS)
async def test_who_may_remove_a_member(client: httpx.AsyncClient, caller: str) -> None:
    callers = await make_callers()
    leaving = await make_member(callers.org, Role.MEMBER)

    result = await gql(client, callers.tokens[caller], REMOVE, id=gid("Member", leaving.id))

    removed_at = (await Member.get(id=leaving.id)).removed_at
    if caller in {"owner", "admin"}:
        assert result.data == {"removeMember": {"email": leaving.email}}
        assert removed_at is not None
    else:
        assert result.error_codes == ["FORBIDDEN"]
        assert removed_at is None


async def test_only_owners_remove_admins(client: httpx.AsyncClient) -> None:
    callers = await make_callers()
    other_admin = await make_member(callers.org, Role.ADMIN)

    by_admin = await gql(client, callers.tokens["admin"], REMOVE, id=gid("Member", other_admin.id))
    by_owner = await gql(client, callers.tokens["owner"], REMOVE, id=gid("Member", other_admin.id))

    assert by_admin.error_codes == ["FORBIDDEN"]
    assert message(by_admin) == "Only Owners can remove an Admin or an Owner."
    assert by_owner.data == {"removeMember": {"email": other_admin.email}}


async def test_the_last_owner_cannot_be_removed_even_by_themselves(
    client: httpx.AsyncClient,
) -> None:
    callers = await make_callers()

    result = await gql(client, callers.tokens["owner"], REMOVE, id=gid("Member", callers.owner.id))

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert message(result) == (
        "id: the organization's only Owner cannot be removed; transfer ownership first"
    )
    assert (await Member.get(id=callers.owner.id)).removed_at is None


async def test_an_owner_may_leave_when_another_owner_remains(client: httpx.AsyncClient) -> None:
    callers = await make_callers()
    await make_member(callers.org, Role.OWNER)

    result = await gql(client, callers.tokens["owner"], REMOVE, id=gid("Member", callers.owner.id))

    assert result.data == {"removeMember": {"email": callers.owner.email}}


async def test_a_removed_members_tokens_stop_working_and_their_keys_become_team_keys(
    client: httpx.AsyncClient,
) -> None:
    callers = await make_callers()
    leaving_token = callers.tokens["member"]
    key = await make_key(callers.org, callers.member)
    assert (await gql(client, leaving_token, "{ viewer { role } }")).status == 200

    result = await gql(client, callers.tokens["admin"], REMOVE, id=gid("Member", callers.member.id))

    assert result.errors is None
    after = await client.post(
        "/graphql",
        json={"query": "{ viewer { role } }"},
        headers={"Authorization": f"Bearer {leaving_token}"},
    )
    assert after.status_code == 401
    assert await AccessToken.filter(member_id=callers.member.id, revoked_at=None).count() == 0
    assert (await ApiKey.get(id=key.id)).owner_id is None
    listed = await gql(client, callers.tokens["admin"], MEMBERS)
    assert callers.member.email not in str(listed.data)
    trail = await audit_trail(callers.org.id)
    assert [(action, subject) for action, subject, _ in trail] == [
        ("member.remove", callers.member.id),
        ("apiKey.update", key.id),
    ]
    assert trail[0][2]["activeTokens"] == {"old": 1, "new": 0}
    assert trail[1][2] == {"ownerMemberId": {"old": callers.member.id, "new": None}}


async def test_no_token_can_be_issued_to_a_removed_member(client: httpx.AsyncClient) -> None:
    callers = await make_callers()
    await gql(client, callers.tokens["admin"], REMOVE, id=gid("Member", callers.member.id))

    with pytest.raises(ValueError, match="the member was removed from the organization"):
        await make_token(await Member.get(id=callers.member.id))


async def test_inviting_a_removed_members_email_brings_them_back(
    client: httpx.AsyncClient,
) -> None:
    callers = await make_callers()
    await gql(client, callers.tokens["admin"], REMOVE, id=gid("Member", callers.member.id))

    result = await gql(client, callers.tokens["admin"], INVITE, email=callers.member.email)

    assert result.errors is None
    back = await Member.get(id=callers.member.id)
    assert (back.removed_at, back.role) == (None, Role.MEMBER)


async def test_removing_another_tenants_member_answers_like_a_missing_one(
    client: httpx.AsyncClient,
) -> None:
    callers = await make_callers()
    stranger = await make_member(await make_org())

    theirs = await gql(client, callers.tokens["owner"], REMOVE, id=gid("Member", stranger.id))
    missing = await gql(client, callers.tokens["owner"], REMOVE, id=gid("Member", 999_999))

    assert theirs.error_codes == missing.error_codes == ["NOT_FOUND"]
    assert message(theirs) == message(missing) == "id: no such member"
    assert (await Member.get(id=stranger.id)).removed_at is None


# --- changeMemberRole -----------------------------------------------------------------------


@pytest.mark.parametrize("caller", CALLERS)
async def test_only_owners_change_roles(client: httpx.AsyncClient, caller: str) -> None:
    callers = await make_callers()
    promoted = await make_member(callers.org, Role.MEMBER)

    result = await gql(
        client, callers.tokens[caller], ROLE, id=gid("Member", promoted.id), role="ADMIN"
    )

    role = (await Member.get(id=promoted.id)).role
    if caller == "owner":
        assert result.data == {"changeMemberRole": {"role": "ADMIN"}}
        assert role is Role.ADMIN
        assert await audit_trail(callers.org.id) == [
            ("member.role", promoted.id, {"role": {"old": "MEMBER", "new": "ADMIN"}})
        ]
    else:
        assert result.error_codes == ["FORBIDDEN"]
        assert role is Role.MEMBER


async def test_a_demoted_admin_loses_administration_on_the_next_request(
    client: httpx.AsyncClient,
) -> None:
    callers = await make_callers()
    key = await make_key(callers.org)

    await gql(
        client, callers.tokens["owner"], ROLE, id=gid("Member", callers.admin.id), role="MEMBER"
    )
    result = await gql(
        client,
        callers.tokens["admin"],
        'mutation U($id: ID!) { updateApiKey(id: $id, label: "x") { label } }',
        id=gid("ApiKey", key.id),
    )

    assert result.error_codes == ["FORBIDDEN"]


async def test_roles_never_make_an_owner_and_the_last_owner_keeps_the_role(
    client: httpx.AsyncClient,
) -> None:
    callers = await make_callers()
    token = callers.tokens["owner"]

    to_owner = await gql(client, token, ROLE, id=gid("Member", callers.admin.id), role="OWNER")
    demote_self = await gql(client, token, ROLE, id=gid("Member", callers.owner.id), role="ADMIN")

    assert to_owner.error_codes == demote_self.error_codes == ["BAD_USER_INPUT"]
    assert message(to_owner) == "role: Owners are made by transferOwnership"
    assert message(demote_self) == (
        "id: the organization's only Owner keeps the role; transfer ownership first"
    )
    assert (await Member.get(id=callers.owner.id)).role is Role.OWNER


async def test_changing_another_tenants_members_role_answers_like_a_missing_one(
    client: httpx.AsyncClient,
) -> None:
    callers = await make_callers()
    stranger = await make_member(await make_org())

    result = await gql(
        client, callers.tokens["owner"], ROLE, id=gid("Member", stranger.id), role="ADMIN"
    )

    assert result.error_codes == ["NOT_FOUND"]
    assert message(result) == "id: no such member"
    assert (await Member.get(id=stranger.id)).role is Role.MEMBER


# --- transferOwnership ----------------------------------------------------------------------


@pytest.mark.parametrize("caller", CALLERS)
async def test_only_owners_transfer_ownership(client: httpx.AsyncClient, caller: str) -> None:
    callers = await make_callers()

    result = await gql(
        client, callers.tokens[caller], TRANSFER, id=gid("Member", callers.member.id)
    )

    roles = {m.id: m.role for m in await Member.filter(organization_id=callers.org.id)}
    if caller == "owner":
        assert result.data == {
            "transferOwnership": {"email": callers.member.email, "role": "OWNER"}
        }
        assert (roles[callers.member.id], roles[callers.owner.id]) == (Role.OWNER, Role.ADMIN)
        assert await audit_trail(callers.org.id) == [
            (
                "member.transferOwnership",
                callers.member.id,
                {"role": {"old": "MEMBER", "new": "OWNER"}},
            ),
            (
                "member.transferOwnership",
                callers.owner.id,
                {"role": {"old": "OWNER", "new": "ADMIN"}},
            ),
        ]
    else:
        assert result.error_codes == ["FORBIDDEN"]
        assert (roles[callers.member.id], roles[callers.owner.id]) == (Role.MEMBER, Role.OWNER)


async def test_the_old_owner_can_no_longer_act_as_owner(client: httpx.AsyncClient) -> None:
    callers = await make_callers()
    token = callers.tokens["owner"]

    await gql(client, token, TRANSFER, id=gid("Member", callers.admin.id))
    again = await gql(client, token, TRANSFER, id=gid("Member", callers.member.id))

    assert again.error_codes == ["FORBIDDEN"]
    assert (await Member.get(id=callers.member.id)).role is Role.MEMBER


async def test_ownership_goes_to_an_active_member_of_the_organization_only(
    client: httpx.AsyncClient,
) -> None:
    callers = await make_callers()
    stranger = await make_member(await make_org())
    token = callers.tokens["owner"]

    to_self = await gql(client, token, TRANSFER, id=gid("Member", callers.owner.id))
    theirs = await gql(client, token, TRANSFER, id=gid("Member", stranger.id))
    missing = await gql(client, token, TRANSFER, id=gid("Member", 999_999))

    assert to_self.error_codes == ["BAD_USER_INPUT"]
    assert message(to_self) == "memberId: you are already the Owner"
    assert theirs.error_codes == missing.error_codes == ["NOT_FOUND"]
    assert message(theirs) == message(missing) == "memberId: no such member"
    assert (await Member.get(id=stranger.id)).role is Role.MEMBER
    assert (await Member.get(id=callers.owner.id)).role is Role.OWNER
