"""Organization.requestLogs filters: every UsageFilter field narrows the logs table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models.api_key import ApiKey
from models.global_ids import encode_global_id
from models.member import Member, Role
from models.priced_record import PricedRecord
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

LOGS = """
query Logs($filter: UsageFilter) {
  organization {
    requestLogs(filter: $filter, first: 100) { totalCount edges { node { requestId } } }
  }
}
"""


@dataclass
class Team:
    owner: Member
    admin: Member
    alice: Member
    bob: Member
    alice_key: ApiKey
    team_key: ApiKey
    logs: dict[str, PricedRecord]

    def gid(self, thing: Member | ApiKey) -> str:
        return encode_global_id(type(thing).__name__, thing.id)


def _recent(minutes_ago: int) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)


@pytest.fixture
async def team(db: object) -> Team:
    """Four people, a personal and a team key, and one log of each kind (named)."""
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    admin = await make_member(org, Role.ADMIN)
    alice = await make_member(org, Role.MEMBER)
    bob = await make_member(org, Role.MEMBER)
    alice_key = await make_key(org, alice)
    bob_key = await make_key(org, bob)
    admin_key = await make_key(org, admin)
    team_key = await make_key(org, None)
    logs = {
        "alice_ok": make_record(org, alice_key, alice, _recent(5), status_code=200),
        "alice_429": make_record(org, alice_key, alice, _recent(6), status_code=429),
        "alice_team_503": make_record(
            org, team_key, alice, _recent(7), status_code=503, model="gpt-3.5-turbo"
        ),
        "bob_401": make_record(org, bob_key, bob, _recent(8), status_code=401),
        "bob_embedding": make_record(
            org, bob_key, bob, _recent(9), status_code=201, endpoint="/v1/embeddings"
        ),
        "bob_team_500": make_record(org, team_key, bob, _recent(10), status_code=500),
        "admin_team_ok": make_record(
            org, team_key, admin, _recent(11), status_code=200, model="gpt-3.5-turbo"
        ),
        "admin_own_500": make_record(
            org, admin_key, admin, _recent(12), status_code=500, model="gpt-3.5-turbo"
        ),
        "alice_two_hours_ago": make_record(org, alice_key, alice, _recent(120)),
        "bob_two_days_ago": make_record(org, bob_key, bob, _recent(2 * 24 * 60)),
    }
    await store(*logs.values())
    return Team(owner, admin, alice, bob, alice_key, team_key, logs)


async def _names(client: httpx.AsyncClient, team: Team, viewer: Member, **filter: Any) -> set[str]:
    """Names of the logs the viewer sees with the filter; checks totalCount agrees."""
    result = await gql(client, await make_token(viewer), LOGS, filter=filter)
    assert result.errors is None, result.errors
    assert result.data is not None
    connection = result.data["organization"]["requestLogs"]
    by_request_id = {str(record.request_id): name for name, record in team.logs.items()}
    names = {by_request_id[edge["node"]["requestId"]] for edge in connection["edges"]}
    assert connection["totalCount"] == len(names)
    return names


RECENT = {
    "alice_ok",
    "alice_429",
    "alice_team_503",
    "bob_401",
    "bob_embedding",
    "bob_team_500",
    "admin_team_ok",
    "admin_own_500",
}


async def test_no_filter_shows_the_last_30_days(client: httpx.AsyncClient, team: Team) -> None:
    names = await _names(client, team, team.owner)

    assert names == RECENT | {"alice_two_hours_ago", "bob_two_days_ago"}


async def test_last_hour_leaves_out_older_requests(client: httpx.AsyncClient, team: Team) -> None:
    assert await _names(client, team, team.owner, period="LAST_HOUR") == RECENT


async def test_last_24_hours_includes_two_hours_ago_but_not_two_days_ago(
    client: httpx.AsyncClient, team: Team
) -> None:
    names = await _names(client, team, team.owner, period="LAST_24_HOURS")

    assert names == RECENT | {"alice_two_hours_ago"}


async def test_custom_range_is_inclusive_start_exclusive_end(
    client: httpx.AsyncClient, team: Team
) -> None:
    start = team.logs["bob_team_500"].timestamp
    end = team.logs["alice_429"].timestamp

    names = await _names(
        client, team, team.owner, **{"from": start.isoformat(), "to": end.isoformat()}
    )

    assert names == {"bob_team_500", "bob_embedding", "bob_401", "alice_team_503"}


@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        (["SUCCESS"], {"alice_ok", "bob_embedding", "admin_team_ok"}),
        (["CLIENT_ERROR"], {"alice_429", "bob_401"}),
        (["SERVER_ERROR"], {"alice_team_503", "bob_team_500", "admin_own_500"}),
        (
            ["CLIENT_ERROR", "SERVER_ERROR"],
            {"alice_429", "bob_401", "alice_team_503", "bob_team_500", "admin_own_500"},
        ),
    ],
)
async def test_status_classes_select_2xx_4xx_5xx(
    client: httpx.AsyncClient, team: Team, classes: list[str], expected: set[str]
) -> None:
    names = await _names(client, team, team.owner, period="LAST_HOUR", statusClasses=classes)

    assert names == expected


async def test_status_codes_select_exact_codes(client: httpx.AsyncClient, team: Team) -> None:
    names = await _names(client, team, team.owner, statusCodes=[429, 503])

    assert names == {"alice_429", "alice_team_503"}


async def test_status_code_outside_http_range_is_refused_naming_the_field(
    client: httpx.AsyncClient, team: Team
) -> None:
    result = await gql(client, await make_token(team.owner), LOGS, filter={"statusCodes": [42]})

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert "filter.statusCodes" in result.errors[0]["message"]


async def test_models_select_by_model_alias(client: httpx.AsyncClient, team: Team) -> None:
    names = await _names(client, team, team.owner, models=["gpt-3.5-turbo"])

    assert names == {"alice_team_503", "admin_team_ok", "admin_own_500"}


async def test_server_errors_for_one_model(client: httpx.AsyncClient, team: Team) -> None:
    names = await _names(
        client, team, team.owner, models=["gpt-3.5-turbo"], statusClasses=["SERVER_ERROR"]
    )

    assert names == {"alice_team_503", "admin_own_500"}


async def test_api_key_ids_select_requests_made_with_those_keys(
    client: httpx.AsyncClient, team: Team
) -> None:
    names = await _names(client, team, team.owner, apiKeyIds=[team.gid(team.team_key)])

    assert names == {"alice_team_503", "bob_team_500", "admin_team_ok"}


async def test_member_ids_select_a_team_members_requests_for_an_admin(
    client: httpx.AsyncClient, team: Team
) -> None:
    names = await _names(
        client, team, team.admin, period="LAST_HOUR", memberIds=[team.gid(team.bob)]
    )

    assert names == {"bob_401", "bob_embedding", "bob_team_500"}


async def test_endpoints_select_by_endpoint(client: httpx.AsyncClient, team: Team) -> None:
    names = await _names(client, team, team.owner, endpoints=["/v1/embeddings"])

    assert names == {"bob_embedding"}


async def test_only_mine_shows_an_admin_just_their_own_requests(
    client: httpx.AsyncClient, team: Team
) -> None:
    names = await _names(client, team, team.admin, onlyMine=True)

    assert names == {"admin_team_ok", "admin_own_500"}


async def test_only_mine_changes_nothing_for_a_member(
    client: httpx.AsyncClient, team: Team
) -> None:
    with_toggle = await _names(client, team, team.alice, onlyMine=True)
    without = await _names(client, team, team.alice)

    assert (
        with_toggle
        == without
        == {
            "alice_ok",
            "alice_429",
            "alice_team_503",
            "alice_two_hours_ago",
        }
    )


async def test_filters_combine_with_and_across_fields(
    client: httpx.AsyncClient, team: Team
) -> None:
    names = await _names(
        client,
        team,
        team.owner,
        apiKeyIds=[team.gid(team.team_key)],
        statusClasses=["SERVER_ERROR"],
        memberIds=[team.gid(team.bob), team.gid(team.alice)],
    )

    assert names == {"alice_team_503", "bob_team_500"}


async def test_an_empty_list_matches_nothing(client: httpx.AsyncClient, team: Team) -> None:
    assert await _names(client, team, team.owner, models=[]) == set()


async def test_an_api_key_filter_naming_an_id_of_another_type_matches_nothing(
    client: httpx.AsyncClient, team: Team
) -> None:
    # A Member's global id in apiKeyIds is not a key id, whatever its number.
    names = await _names(client, team, team.owner, apiKeyIds=[team.gid(team.alice)])

    assert names == set()


async def test_a_member_naming_themselves_in_member_ids_sees_their_requests(
    client: httpx.AsyncClient, team: Team
) -> None:
    names = await _names(
        client, team, team.alice, period="LAST_HOUR", memberIds=[team.gid(team.alice)]
    )

    assert names == {"alice_ok", "alice_429", "alice_team_503"}


async def test_a_member_naming_another_member_is_forbidden(
    client: httpx.AsyncClient, team: Team
) -> None:
    result = await gql(
        client,
        await make_token(team.alice),
        LOGS,
        filter={"memberIds": [team.gid(team.alice), team.gid(team.bob)]},
    )

    assert result.error_codes == ["FORBIDDEN"]
    assert result.data is None


async def test_a_member_filtering_by_a_team_key_sees_only_their_own_requests_on_it(
    client: httpx.AsyncClient, team: Team
) -> None:
    names = await _names(client, team, team.alice, apiKeyIds=[team.gid(team.team_key)])

    assert names == {"alice_team_503"}
