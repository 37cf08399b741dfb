"""syncDirectory: the same upserts through GraphQL, and who may call it.

Role table: directory tokens (with or without ingest) and Owners with an admin-scoped token
may sync; Admins may not (sync changes roles, which only Owners do), nor Members, ingest
tokens, or read/export-only tokens.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from auth.tokens import authenticate
from models.access_token import Scope
from models.api_key import ApiKey
from models.audit import AuditEntry
from models.member import Member, Role
from tests.directory_support import make_directory_token
from tests.factories import gql, make_ingest_token, make_member, make_org, make_token

SYNC = """
mutation Sync($records: [DirectoryRecordInput!]!) {
  syncDirectory(records: $records) {
    created updated unchanged rejected { position line field reason }
  }
}
"""
RECORDS: list[dict[str, Any]] = [
    {"type": "API_KEY", "externalId": "key-1", "prefix": "sk-gw-1", "ownerExternalId": "u-1"},
    {"type": "MEMBER", "externalId": "u-1", "email": "ada@example.com", "role": "ADMIN"},
]


async def test_a_directory_token_syncs_and_a_resend_is_unchanged(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    token = await make_directory_token(org)

    first = await gql(client, token, SYNC, records=RECORDS)
    second = await gql(client, token, SYNC, records=RECORDS)

    assert first.data == {
        "syncDirectory": {"created": 2, "updated": 0, "unchanged": 0, "rejected": []}
    }
    assert second.data == {
        "syncDirectory": {"created": 0, "updated": 0, "unchanged": 2, "rejected": []}
    }
    ada = await Member.get(organization_id=org.id, external_id="u-1")
    assert ada.role is Role.ADMIN
    key = await ApiKey.get(organization_id=org.id, external_id="key-1")
    assert key.owner_id == ada.id


async def test_left_out_fields_keep_their_value_and_null_clears(client: httpx.AsyncClient) -> None:
    org = await make_org()
    token = await make_directory_token(org)
    await gql(
        client,
        token,
        SYNC,
        records=[
            *RECORDS[1:],
            {**RECORDS[0], "label": "Prod", "allowedModels": ["gpt-4o"]},
        ],
    )

    result = await gql(
        client,
        token,
        SYNC,
        records=[{"type": "API_KEY", "externalId": "key-1", "ownerExternalId": None}],
    )

    assert result.data == {
        "syncDirectory": {"created": 0, "updated": 1, "unchanged": 0, "rejected": []}
    }
    key = await ApiKey.get(organization_id=org.id, external_id="key-1")
    assert (key.label, key.allowed_models, key.owner_id) == ("Prod", ["gpt-4o"], None)


async def test_the_mutation_reports_bad_records_by_position(client: httpx.AsyncClient) -> None:
    org = await make_org()
    token = await make_directory_token(org)

    result = await gql(
        client,
        token,
        SYNC,
        records=[
            {"type": "MEMBER", "externalId": "u-1", "email": "ada@example.com", "role": "OWNER"},
            {"type": "API_KEY", "externalId": "k", "prefix": "sk-1", "status": "UNSYNCED"},
            {"type": "MEMBER", "externalId": "u-2", "prefix": "sk-1"},
        ],
    )

    assert result.data == {
        "syncDirectory": {
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "rejected": [
                {
                    "position": 0,
                    "line": None,
                    "field": "role",
                    "reason": "OWNER cannot be given by directory sync; "
                    "Owners are made in the service",
                },
                {
                    "position": 1,
                    "line": None,
                    "field": "status",
                    "reason": "must be one of ACTIVE, BLOCKED, REVOKED, got 'UNSYNCED'",
                },
                {
                    "position": 2,
                    "line": None,
                    "field": "prefix",
                    "reason": "unknown field 'prefix' for this type; accepted: email, "
                    "externalId, name, removed, role, type",
                },
            ],
        }
    }


async def test_an_owner_with_an_admin_token_may_sync_and_the_trail_names_them(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    token = await make_token(owner)
    viewer = await authenticate(f"Bearer {token}")

    result = await gql(client, token, SYNC, records=RECORDS[1:])

    assert result.data == {
        "syncDirectory": {"created": 1, "updated": 0, "unchanged": 0, "rejected": []}
    }
    [entry] = await AuditEntry.filter(organization_id=org.id)
    assert (entry.action, entry.via, entry.actor_member_id, entry.actor_token_id) == (
        "member.create",
        "graphql",
        owner.id,
        viewer.token_id,
    )
    assert entry.changes["role"] == {"old": None, "new": "ADMIN"}


@pytest.mark.parametrize(
    ("role", "scopes"),
    [
        (Role.ADMIN, None),
        (Role.MEMBER, None),
        (Role.OWNER, [Scope.READ]),
        (Role.OWNER, [Scope.READ, Scope.EXPORT]),
        (Role.ADMIN, [Scope.READ, Scope.EXPORT, Scope.ADMIN]),
    ],
)
async def test_admins_members_and_tokens_without_admin_scope_are_forbidden(
    client: httpx.AsyncClient, role: Role, scopes: list[Scope] | None
) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, role), scopes)

    result = await gql(client, token, SYNC, records=RECORDS[1:])

    assert result.error_codes == ["FORBIDDEN"]
    assert not await Member.filter(organization_id=org.id, external_id="u-1").exists()


async def test_an_ingest_token_is_forbidden_and_a_directory_ingest_token_may_sync(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()

    ingest = await gql(client, await make_ingest_token(org), SYNC, records=RECORDS[1:])
    both = await gql(
        client, await make_directory_token(org, ingest=True), SYNC, records=RECORDS[1:]
    )

    assert ingest.error_codes == ["FORBIDDEN"]
    assert both.data == {
        "syncDirectory": {"created": 1, "updated": 0, "unchanged": 0, "rejected": []}
    }


async def test_another_tenants_external_ids_answer_like_missing_ones(
    client: httpx.AsyncClient,
) -> None:
    ours, theirs = await make_org(), await make_org()
    await gql(client, await make_directory_token(theirs), SYNC, records=RECORDS[1:])

    result = await gql(
        client,
        await make_directory_token(ours),
        SYNC,
        records=[
            {"type": "API_KEY", "externalId": "key-9", "prefix": "sk-9", "ownerExternalId": "u-1"}
        ],
    )

    assert result.data is not None
    assert result.data["syncDirectory"]["rejected"] == [
        {
            "position": 0,
            "line": None,
            "field": "ownerExternalId",
            "reason": "no member with this externalId in your organization "
            "(sync the member first, or in the same batch)",
        }
    ]
    assert await ApiKey.filter(organization_id=ours.id).count() == 0


async def test_more_than_a_thousand_records_is_bad_input(client: httpx.AsyncClient) -> None:
    org = await make_org()
    records = [
        {"type": "MEMBER", "externalId": f"u-{i}", "email": f"u{i}@example.com"}
        for i in range(1001)
    ]

    result = await gql(client, await make_directory_token(org), SYNC, records=records)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert await Member.filter(organization_id=org.id).count() == 0
