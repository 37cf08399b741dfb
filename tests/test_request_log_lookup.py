"""Organization.requestLog(requestId:): one log by the gateway's UUID, through the scope."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from models.global_ids import encode_global_id
from models.member import Role
from models.request_log import RequestLog
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

LOOKUP = """
query Lookup($id: UUID!) {
  organization { requestLog(requestId: $id) { id requestId customerCost latencyMs member { id } } }
}
"""
_AT = datetime.now(UTC).replace(microsecond=0) - timedelta(days=400)


@pytest.fixture
async def people(db: object) -> dict[str, object]:
    """Two organizations; in the first an Owner, an Admin and two Members, each with a log
    (more than a year old: the lookup has no time range)."""
    org, other_org = await make_org(), await make_org()
    found: dict[str, object] = {}
    for role in (Role.OWNER, Role.ADMIN, Role.MEMBER):
        found[role.value] = await make_member(org, role)
    found["bob"] = await make_member(org, Role.MEMBER)
    found["stranger"] = await make_member(other_org, Role.OWNER)
    for name in ("OWNER", "MEMBER", "bob", "stranger"):
        member = found[name]
        owner_org = other_org if name == "stranger" else org
        key = await make_key(owner_org, member)  # type: ignore[arg-type]
        record = make_record(owner_org, key, member, _AT)  # type: ignore[arg-type]
        await store(record)
        found[f"{name}_log"] = record.request_id
    return found


def _log(result: object) -> dict[str, object] | None:
    assert result.errors is None, result.errors  # type: ignore[attr-defined]
    log: dict[str, object] | None = result.data["organization"]["requestLog"]  # type: ignore[attr-defined]
    return log


@pytest.mark.parametrize("viewer", ["OWNER", "ADMIN"])
async def test_owners_and_admins_find_any_log_of_their_organization(
    client: httpx.AsyncClient, people: dict[str, object], viewer: str
) -> None:
    token = await make_token(people[viewer])  # type: ignore[arg-type]
    request_id = people["MEMBER_log"]

    log = _log(await gql(client, token, LOOKUP, id=str(request_id)))

    assert log is not None
    stored = await RequestLog.get(request_id=request_id)
    assert log["id"] == encode_global_id("RequestLog", stored.id)
    assert log["requestId"] == str(request_id)
    assert log["customerCost"] == "0.10"


async def test_a_member_finds_their_own_log(
    client: httpx.AsyncClient, people: dict[str, object]
) -> None:
    token = await make_token(people["MEMBER"])  # type: ignore[arg-type]

    log = _log(await gql(client, token, LOOKUP, id=str(people["MEMBER_log"])))

    assert log is not None
    assert log["requestId"] == str(people["MEMBER_log"])


@pytest.mark.parametrize(
    ("viewer", "target"),
    [
        ("MEMBER", "bob_log"),  # another member's
        ("MEMBER", "OWNER_log"),
        ("OWNER", "stranger_log"),  # another tenant's
        ("ADMIN", "stranger_log"),
        ("OWNER", None),  # none at all
    ],
)
async def test_a_log_the_viewer_may_not_see_answers_null_like_a_missing_one(
    client: httpx.AsyncClient, people: dict[str, object], viewer: str, target: str | None
) -> None:
    token = await make_token(people[viewer])  # type: ignore[arg-type]
    request_id = people[target] if target else uuid.uuid4()

    result = await gql(client, token, LOOKUP, id=str(request_id))

    assert _log(result) is None


async def test_a_malformed_uuid_is_bad_user_input(
    client: httpx.AsyncClient, people: dict[str, object]
) -> None:
    token = await make_token(people["OWNER"])  # type: ignore[arg-type]

    result = await gql(client, token, LOOKUP, id="not-a-uuid")

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert "$id" in result.errors[0]["message"]
