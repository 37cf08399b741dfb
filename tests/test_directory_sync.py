"""POST /directory/bulk: the gateway's members and keys, upserted by its own ids."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from auth.tokens import authenticate
from graph.rate_limiter import RateLimiter, RateLimits
from models.access_token import AccessToken
from models.api_key import ApiKey, KeyStatus
from models.audit import AuditEntry
from models.member import Member, Role
from settings import Settings
from tests.directory_support import key_record, make_directory_token, member_record, post_directory
from tests.factories import make_ingest_token, make_key, make_member, make_org, make_token
from tests.rate_clock import LibraryClock, library_clock
from web.app import create_app

# Named here so pytest finds the imported fixture (and linters see it used).
__all__ = ["library_clock"]

BATCH = [
    # Keys before members on purpose: members are applied first whatever the order.
    key_record(
        "key-1",
        "sk-gw-0001",
        label="Production",
        ownerExternalId="user-1",
        allowedModels=["gpt-4o", " gpt-4o ", "claude-3-opus"],
        createdAt="2026-11-02T09:30:00+01:00",
    ),
    key_record("key-2", "sk-gw-0002", label="Team key", ownerExternalId=None),
    key_record("key-3", "sk-gw-0003", ownerEmail="grace@example.com", status="BLOCKED"),
    member_record("user-1", "ada@example.com", name="Ada", role="ADMIN"),
    member_record("user-2", "grace@example.com", name="Grace"),
]


async def test_a_batch_creates_members_and_keys_with_their_owners(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    token = await make_directory_token(org)

    response = await post_directory(client, token, BATCH)

    assert response.status_code == 200
    assert response.json() == {"created": 5, "updated": 0, "unchanged": 0, "rejected": []}
    ada = await Member.get(organization_id=org.id, external_id="user-1")
    grace = await Member.get(organization_id=org.id, external_id="user-2")
    assert (ada.email, ada.name, ada.role) == ("ada@example.com", "Ada", Role.ADMIN)
    assert (grace.name, grace.role) == ("Grace", Role.MEMBER)
    keys = {k.external_id: k for k in await ApiKey.filter(organization_id=org.id)}
    assert keys["key-1"].owner_id == ada.id
    assert keys["key-1"].label == "Production"
    assert keys["key-1"].allowed_models == ["gpt-4o", "claude-3-opus"]
    assert keys["key-1"].created_at == datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
    assert (keys["key-2"].owner_id, keys["key-2"].status) == (None, KeyStatus.ACTIVE)
    assert keys["key-3"].owner_id == grace.id
    assert keys["key-3"].label == "sk-gw-0003"
    assert (keys["key-3"].status, keys["key-3"].status_reason) == (
        KeyStatus.BLOCKED,
        "blocked by the gateway",
    )


async def test_a_resent_batch_changes_nothing_and_answers_unchanged(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    token = await make_directory_token(org)
    await post_directory(client, token, BATCH)
    entries = await AuditEntry.filter(organization_id=org.id).count()

    response = await post_directory(client, token, BATCH)

    assert response.json() == {"created": 0, "updated": 0, "unchanged": 5, "rejected": []}
    assert await AuditEntry.filter(organization_id=org.id).count() == entries == 5
    assert await Member.filter(organization_id=org.id).count() == 2
    assert await ApiKey.filter(organization_id=org.id).count() == 3


async def test_a_changed_record_updates_its_row_and_the_trail_says_who_and_what(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    token = await make_directory_token(org)
    await post_directory(client, token, BATCH)
    viewer = await authenticate(f"Bearer {token}")

    response = await post_directory(
        client,
        token,
        [key_record("key-2", "sk-gw-0002", label="Team key (EU)", allowedModels=["gpt-4o"])],
    )

    assert response.json() == {"created": 0, "updated": 1, "unchanged": 0, "rejected": []}
    key = await ApiKey.get(organization_id=org.id, external_id="key-2")
    [entry] = await AuditEntry.filter(organization_id=org.id, action="apiKey.update")
    assert (entry.subject_type, entry.subject_id) == ("ApiKey", key.id)
    assert (entry.via, entry.actor_token_id, entry.actor_member_id) == (
        "directory-sync",
        viewer.token_id,
        None,
    )
    assert entry.changes == {
        "label": {"old": "Team key", "new": "Team key (EU)"},
        "allowedModels": {"old": None, "new": ["gpt-4o"]},
    }


async def test_each_bad_record_is_named_and_the_good_ones_are_stored(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    token = await make_directory_token(org)
    body = [
        member_record("user-1", "ada@example.com"),
        member_record("user-2", "bob@example.com", role="SUPERUSER"),
        key_record("key-1", "sk-gw-0001", ownerExternalId="nobody"),
        key_record("key-2", "sk-gw-0002", status="EXPIRED"),
        member_record("user-1", "ada.again@example.com"),
        {"externalId": "x"},
        key_record("key-3", "sk-gw-0003", owner="user-1"),
        member_record("user-3", "not-an-email"),
        key_record("key-4", "sk-gw-0004", ownerEmail="ada@example.com"),
    ]
    lines = [orjson.dumps(r) for r in body]
    content = b"\n".join([*lines[:5], b"{broken", *lines[5:]])

    response = await post_directory(client, token, content)

    payload = response.json()
    assert (payload["created"], payload["updated"], payload["unchanged"]) == (2, 0, 0)
    assert [(r["position"], r["line"], r["field"], r["reason"]) for r in payload["rejected"]] == [
        (1, 2, "role", "must be one of MEMBER, ADMIN, OWNER, got 'SUPERUSER'"),
        (
            2,
            3,
            "ownerExternalId",
            "no member with this externalId in your organization "
            "(sync the member first, or in the same batch)",
        ),
        (3, 4, "status", "must be one of ACTIVE, BLOCKED, REVOKED, got 'EXPIRED'"),
        (
            4,
            5,
            "externalId",
            "repeats the member at position 0 of this batch; send each externalId once per batch",
        ),
        (5, 6, None, payload["rejected"][4]["reason"]),
        (6, 7, "type", 'is required: "apiKey" or "member"'),
        (
            7,
            8,
            "owner",
            "unknown field 'owner' for this type; accepted: allowedModels, createdAt, "
            "externalId, label, ownerEmail, ownerExternalId, prefix, revokedAt, status, "
            "statusReason, type",
        ),
        (8, 9, "email", "'not-an-email' is not an email address"),
    ]
    assert payload["rejected"][4]["reason"].startswith("line 6 is not valid JSON")
    assert await Member.filter(organization_id=org.id).values_list("email", flat=True) == [
        "ada@example.com"
    ]
    [key] = await ApiKey.filter(organization_id=org.id)
    assert (key.external_id, key.owner_id) == (
        "key-4",
        (await Member.get(organization_id=org.id)).id,
    )


async def test_a_second_member_with_a_taken_email_is_refused(client: httpx.AsyncClient) -> None:
    org = await make_org()
    token = await make_directory_token(org)
    await post_directory(client, token, [member_record("user-1", "ada@example.com")])

    response = await post_directory(client, token, [member_record("user-9", "ada@example.com")])

    assert response.json()["rejected"] == [
        {
            "position": 0,
            "line": 1,
            "field": "email",
            "reason": "is already another member's email (externalId 'user-1')",
        }
    ]


async def test_a_member_created_here_first_is_linked_by_email_not_duplicated(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    ada = await make_member(org, Role.MEMBER, email="ada@example.com", name="Ada L.")
    token = await make_directory_token(org)

    response = await post_directory(
        client, token, [member_record("user-1", "ada@example.com", name="Ada Lovelace")]
    )

    assert response.json()["updated"] == 1
    await ada.refresh_from_db()
    assert (ada.external_id, ada.name) == ("user-1", "Ada Lovelace")
    assert await Member.filter(organization_id=org.id).count() == 1


async def test_sync_never_makes_demotes_or_removes_an_owner(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER, email="owner@example.com", external_id="boss")
    token = await make_directory_token(org)

    response = await post_directory(
        client,
        token,
        [
            member_record("user-1", "new@example.com", role="OWNER"),
            member_record("boss", "owner@example.com", role="ADMIN"),
            member_record("boss", "owner@example.com", removed=True),
        ],
    )

    assert [(r["position"], r["field"], r["reason"]) for r in response.json()["rejected"]] == [
        (0, "role", "OWNER cannot be given by directory sync; Owners are made in the service"),
        (1, "role", "this member is an Owner here; directory sync does not change an Owner's role"),
        (
            2,
            "externalId",
            "repeats the member at position 1 of this batch; send each externalId once per batch",
        ),
    ]
    removal = await post_directory(
        client, token, [member_record("boss", "owner@example.com", removed=True)]
    )
    assert removal.json()["rejected"][0]["reason"] == (
        "this member is an Owner here; directory sync does not remove Owners"
    )
    await owner.refresh_from_db()
    assert (owner.role, owner.removed_at) == (Role.OWNER, None)
    assert not await Member.filter(email="new@example.com").exists()


async def test_removing_a_member_revokes_their_tokens_and_keeps_their_row(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    token = await make_directory_token(org)
    await post_directory(client, token, [member_record("user-1", "ada@example.com")])
    ada = await Member.get(organization_id=org.id, external_id="user-1")
    ada_token = await make_token(ada)

    response = await post_directory(
        client, token, [member_record("user-1", "ada@example.com", removed=True)]
    )

    assert response.json()["updated"] == 1
    await ada.refresh_from_db()
    assert ada.removed_at is not None
    [record] = await AccessToken.filter(member_id=ada.id)
    assert record.revoked_at == ada.removed_at
    refused = await client.post(
        "/graphql",
        json={"query": "{ viewer { role } }"},
        headers={"Authorization": f"Bearer {ada_token}"},
    )
    assert refused.status_code == 401
    [entry] = await AuditEntry.filter(organization_id=org.id, action="member.remove")
    assert entry.subject_id == ada.id
    with pytest.raises(ValueError, match="the member was removed from the organization"):
        await make_token(ada)


async def test_another_tenants_ids_and_emails_neither_collide_nor_leak(
    client: httpx.AsyncClient,
) -> None:
    ours, theirs = await make_org(), await make_org()
    their_token = await make_directory_token(theirs)
    await post_directory(
        client,
        their_token,
        [member_record("user-1", "ada@example.com", role="ADMIN"), key_record("key-1", "sk-1")],
    )
    our_token = await make_directory_token(ours)

    same_ids = await post_directory(
        client,
        our_token,
        [member_record("user-1", "ada@example.com"), key_record("key-1", "sk-1", label="ours")],
    )
    their_owner = await post_directory(
        client, our_token, [key_record("key-2", "sk-2", ownerEmail="nobody-here@example.com")]
    )

    assert same_ids.json() == {"created": 2, "updated": 0, "unchanged": 0, "rejected": []}
    their_member = await Member.get(organization_id=theirs.id, external_id="user-1")
    assert their_member.role is Role.ADMIN
    their_key = await ApiKey.get(organization_id=theirs.id, external_id="key-1")
    assert their_key.label == "sk-1"
    assert their_owner.json()["rejected"][0]["reason"] == (
        "no member with this email in your organization"
    )
    for org in (ours, theirs):
        assert await Member.filter(organization_id=org.id).count() == 1
        assert await ApiKey.filter(organization_id=org.id).count() == 1


async def test_concurrent_copies_of_a_batch_create_each_row_once(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    token = await make_directory_token(org)

    answers = await asyncio.gather(*(post_directory(client, token, BATCH) for _ in range(4)))

    payloads = [a.json() for a in answers]
    assert sorted(p["created"] for p in payloads) == [0, 0, 0, 5]
    assert sorted(p["unchanged"] for p in payloads) == [0, 5, 5, 5]
    assert all(p["rejected"] == [] for p in payloads)
    assert await Member.filter(organization_id=org.id).count() == 2
    assert await ApiKey.filter(organization_id=org.id).count() == 3
    assert await AuditEntry.filter(organization_id=org.id).count() == 5


async def test_a_resent_active_status_never_lifts_a_block_the_service_set(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    token = await make_directory_token(org)
    await post_directory(client, token, [key_record("key-1", "sk-1", status="ACTIVE")])
    key = await ApiKey.get(organization_id=org.id, external_id="key-1")
    await ApiKey.filter(id=key.id).update(
        status=KeyStatus.BLOCKED,
        status_reason="monthly limit of $1.00 reached",
        limit_blocked_period_start=datetime(2026, 12, 1, tzinfo=UTC),
    )

    response = await post_directory(client, token, [key_record("key-1", "sk-1", status="ACTIVE")])

    assert response.json()["unchanged"] == 1
    await key.refresh_from_db()
    assert (key.status, key.status_reason) == (KeyStatus.BLOCKED, "monthly limit of $1.00 reached")


async def test_active_lifts_a_block_the_gateway_sent_and_revoked_is_final(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    token = await make_directory_token(org)
    await post_directory(
        client, token, [key_record("key-1", "sk-1", status="BLOCKED", statusReason="fraud check")]
    )

    lifted = await post_directory(client, token, [key_record("key-1", "sk-1", status="ACTIVE")])
    revoked = await post_directory(
        client,
        token,
        [key_record("key-1", "sk-1", status="REVOKED", revokedAt="2026-12-01T10:00:00Z")],
    )
    reactivated = await post_directory(
        client, token, [key_record("key-1", "sk-1", status="ACTIVE")]
    )

    assert lifted.json()["updated"] == revoked.json()["updated"] == 1
    assert reactivated.json()["rejected"] == [
        {
            "position": 0,
            "line": 1,
            "field": "status",
            "reason": "the key is revoked; a revoked key is never reactivated",
        }
    ]
    key = await ApiKey.get(organization_id=org.id, external_id="key-1")
    assert (key.status, key.status_reason, key.revoked_at) == (
        KeyStatus.REVOKED,
        "revoked",
        datetime(2026, 12, 1, 10, tzinfo=UTC),
    )
    actions = (
        await AuditEntry.filter(organization_id=org.id)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["apiKey.create", "apiKey.update", "apiKey.revoke"]


async def test_a_keys_prefix_never_changes(client: httpx.AsyncClient) -> None:
    org = await make_org()
    token = await make_directory_token(org)
    await post_directory(client, token, [key_record("key-1", "sk-1")])

    response = await post_directory(client, token, [key_record("key-1", "sk-9")])

    assert response.json()["rejected"][0]["reason"] == (
        "the key's prefix here is 'sk-1'; a key's prefix never changes"
    )


async def test_a_key_made_here_is_adopted_by_its_prefix(client: httpx.AsyncClient) -> None:
    org = await make_org()
    key = await make_key(org, prefix="sk-demo-1", label="Demo")
    token = await make_directory_token(org)

    response = await post_directory(client, token, [key_record("key-1", "sk-demo-1")])

    assert response.json()["updated"] == 1
    await key.refresh_from_db()
    assert (key.external_id, key.label, key.status) == ("key-1", "Demo", KeyStatus.ACTIVE)


async def test_only_directory_tokens_may_post(client: httpx.AsyncClient) -> None:
    org = await make_org()
    ingest = await make_ingest_token(org)
    owner = await make_token(await make_member(org, Role.OWNER))

    answers = [
        await post_directory(client, token, [member_record("u", "u@example.com")])
        for token in (ingest, owner, None)
    ]

    assert [a.status_code for a in answers] == [403, 403, 401]
    assert answers[0].json()["error"] == {
        "code": "FORBIDDEN",
        "message": "only directory tokens can sync the directory",
    }
    assert await Member.filter(organization_id=org.id).count() == 1  # the owner


async def test_a_directory_token_reads_nothing(client: httpx.AsyncClient) -> None:
    org = await make_org()
    token = await make_directory_token(org)

    reading = await client.post(
        "/graphql",
        json={"query": "{ organization { name } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    exporting = await client.get(
        "/export/request-logs.csv",
        params={"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert reading.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert exporting.status_code == 403


async def test_another_content_type_is_415(client: httpx.AsyncClient) -> None:
    token = await make_directory_token(await make_org())

    response = await client.post(
        "/directory/bulk",
        content=b"a,b\n",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
    )

    assert response.status_code == 415


@pytest.fixture
async def small_limits_client(db: Settings) -> httpx.AsyncClient:
    settings = Settings.from_env(
        {
            "AIZE_DATABASE_URL": db.database_url,
            "AIZE_BULK_MAX_RECORDS": "2",
            "AIZE_BULK_MAX_BYTES": "2048",
        }
    )
    app: Starlette = create_app(settings, manage_database=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_more_records_or_bytes_than_the_limits_is_413_and_stores_nothing(
    small_limits_client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    token = await make_directory_token(org)

    records = await post_directory(small_limits_client, token, BATCH[:3])
    size = await post_directory(
        small_limits_client, token, [member_record("u", "u@example.com", name="x" * 3000)]
    )

    assert records.status_code == size.status_code == 413
    assert records.json()["error"] == {
        "code": "PAYLOAD_TOO_LARGE",
        "message": "a request may carry at most 2 records",
        "limit": {"records": 2},
    }
    assert size.json()["error"]["limit"] == {"bytes": 2048}
    assert await ApiKey.filter(organization_id=org.id).count() == 0


async def test_a_batch_pays_a_point_per_record_and_says_what_is_left(
    app: Starlette, client: httpx.AsyncClient, library_clock: LibraryClock
) -> None:
    org = await make_org()
    token = await make_directory_token(org)
    app.state.rate_limiter = RateLimiter(RateLimits(1000, 1000, 7, 100))

    paid = await post_directory(client, token, BATCH)
    refused = await post_directory(client, token, BATCH)

    assert paid.status_code == 200
    assert paid.headers["x-ratelimit-remaining"] == "2"
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert await ApiKey.filter(organization_id=org.id).count() == 3
