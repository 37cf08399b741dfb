"""Ingest for a key directory sync has not named yet: the usage is kept on an UNSYNCED key,
keyAccess still calls the key unknown, and a later sync adopts the key with its history."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ingestion import unsynced_keys
from models.api_key import ApiKey, KeyStatus
from models.audit import AuditEntry
from models.global_ids import encode_global_id
from models.member import Role
from models.organization import Organization
from models.request_log import RequestLog
from tests.directory_support import key_record, make_directory_token, post_directory
from tests.factories import gql, make_ingest_token, make_key, make_member, make_org, make_token
from tests.ingest_support import gateway_record, post_bulk

USD = 1_000_000_000
ACCESS = """
query Access($prefix: String) {
  keyAccess(apiKeyPrefix: $prefix, model: "gpt-4") { allowed statusCode denial reason }
}
"""
KEY_USAGE = "{ organization { apiKeys { label status usage { requests cost } } } }"


class _Unsynced:
    """A key row stand-in for gateway_record: only the prefix is read."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix


def record_for(prefix: str, **fields: object) -> dict[str, object]:
    return gateway_record(_Unsynced(prefix), providerCost="0.10", **fields)  # type: ignore[arg-type]


async def test_a_record_for_a_never_synced_key_is_kept_and_shows_in_usage(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(wallet_balance_nanos=5 * USD)
    ingest = await make_ingest_token(org)
    owner = await make_token(await make_member(org, Role.OWNER))

    response = await post_bulk(client, ingest, [record_for("sk-new-0001") for _ in range(2)])

    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    [key] = await ApiKey.filter(organization_id=org.id)
    assert (key.prefix, key.label, key.status, key.owner_id, key.external_id) == (
        "sk-new-0001",
        "sk-new-0001",
        KeyStatus.UNSYNCED,
        None,
        None,
    )
    assert await RequestLog.filter(api_key_id=key.id).count() == 2
    usage = await gql(client, owner, KEY_USAGE)
    assert usage.data == {
        "organization": {
            "apiKeys": [
                {
                    "label": "sk-new-0001",
                    "status": "UNSYNCED",
                    "usage": {"requests": 2, "cost": "0.20"},
                }
            ]
        }
    }
    # Spend control counts it from the first request: the wallet paid for both.
    assert (await Organization.get(id=org.id)).wallet_balance_nanos == 5 * USD - 2 * USD // 10
    [entry] = await AuditEntry.filter(organization_id=org.id)
    assert (entry.action, entry.via, entry.subject_id) == ("apiKey.create", "ingest", key.id)


async def test_key_access_answers_an_unsynced_key_like_an_unknown_one(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(wallet_balance_nanos=5 * USD)
    ingest = await make_ingest_token(org)
    await post_bulk(client, ingest, [record_for("sk-new-0001")])

    unsynced = await gql(client, ingest, ACCESS, prefix="sk-new-0001")
    unknown = await gql(client, ingest, ACCESS, prefix="sk-never-seen")

    expected = {"allowed": False, "statusCode": 401, "denial": "UNKNOWN_KEY"}
    assert unsynced.data == unknown.data == {"keyAccess": {**expected, "reason": "unknown API key"}}


async def test_a_later_sync_adopts_the_key_and_its_history(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=5 * USD)
    ingest = await make_ingest_token(org)
    await post_bulk(client, ingest, [record_for("sk-new-0001") for _ in range(3)])
    [placeholder] = await ApiKey.filter(organization_id=org.id)
    directory = await make_directory_token(org)

    response = await post_directory(
        client, directory, [key_record("gw-77", "sk-new-0001", label="Checkout service")]
    )
    access = await gql(client, ingest, ACCESS, prefix="sk-new-0001")

    assert response.json() == {"created": 0, "updated": 1, "unchanged": 0, "rejected": []}
    [key] = await ApiKey.filter(organization_id=org.id)
    assert key.id == placeholder.id
    assert (key.external_id, key.label, key.status, key.status_reason) == (
        "gw-77",
        "Checkout service",
        KeyStatus.ACTIVE,
        None,
    )
    assert await RequestLog.filter(api_key_id=key.id).count() == 3
    assert access.data == {
        "keyAccess": {"allowed": True, "statusCode": None, "denial": None, "reason": None}
    }


async def test_usage_after_sync_lands_on_the_synced_key(client: httpx.AsyncClient) -> None:
    org = await make_org()
    directory = await make_directory_token(org, ingest=True)
    await post_directory(client, directory, [key_record("gw-1", "sk-known-1")])

    response = await post_bulk(client, directory, [record_for("sk-known-1")])

    assert response.json()["accepted"] == 1
    [key] = await ApiKey.filter(organization_id=org.id)
    assert (key.external_id, key.status) == ("gw-1", KeyStatus.ACTIVE)
    assert await RequestLog.filter(api_key_id=key.id).count() == 1


async def test_concurrent_batches_naming_one_new_prefix_make_one_key(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    ingest = await make_ingest_token(org)

    answers = await asyncio.gather(
        *(post_bulk(client, ingest, [record_for("sk-race-1")]) for _ in range(4))
    )

    assert [a.json()["accepted"] for a in answers] == [1, 1, 1, 1]
    [key] = await ApiKey.filter(organization_id=org.id)
    assert await RequestLog.filter(api_key_id=key.id).count() == 4


async def test_records_naming_an_unknown_key_id_or_an_unstorable_prefix_are_still_rejected(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    known = await make_key(org)
    ingest = await make_ingest_token(org)

    response = await post_bulk(
        client,
        ingest,
        [
            gateway_record(known, apiKeyPrefix=None, apiKeyId=encode_global_id("ApiKey", 99_999)),
            record_for("sk-" + "x" * 40),
            record_for("sk-new", apiKeyId=encode_global_id("ApiKey", known.id)),
        ],
    )

    assert [(r["field"], r["reason"]) for r in response.json()["rejected"]] == [
        ("apiKeyId", "no API key with this id in your organization"),
        ("apiKeyPrefix", "no API key with this prefix in your organization"),
        ("apiKeyPrefix", "no API key with this prefix in your organization"),
    ]
    assert await ApiKey.filter(organization_id=org.id).count() == 1


async def test_placeholders_stop_at_the_cap_and_later_records_are_rejected(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(unsynced_keys, "MAX_UNSYNCED_KEYS", 2)
    org = await make_org()
    ingest = await make_ingest_token(org)

    response = await post_bulk(
        client, ingest, [record_for("sk-a"), record_for("sk-b"), record_for("sk-c")]
    )

    assert response.json()["accepted"] == 2
    assert response.json()["rejected"] == [
        {
            "position": 2,
            "line": 3,
            "field": "apiKeyPrefix",
            "reason": "no API key with this prefix in your organization",
        }
    ]
    assert await ApiKey.filter(organization_id=org.id, status=KeyStatus.UNSYNCED).count() == 2


async def test_another_tenants_prefix_is_not_borrowed(client: httpx.AsyncClient) -> None:
    ours, theirs = await make_org(), await make_org()
    their_key = await make_key(theirs, prefix="sk-shared")
    ingest = await make_ingest_token(ours)

    await post_bulk(client, ingest, [record_for("sk-shared")])

    [our_key] = await ApiKey.filter(organization_id=ours.id)
    assert our_key.id != their_key.id
    assert our_key.status is KeyStatus.UNSYNCED
    assert await RequestLog.filter(api_key_id=their_key.id).count() == 0
