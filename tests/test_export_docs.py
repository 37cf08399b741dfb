"""Every URL and command in docs/readme/exports.md and reports.md works as written."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cli.main import build_parser
from models.member import Role
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

DOCS = Path(__file__).resolve().parent.parent / "docs" / "readme"
EXPORTS = (DOCS / "exports.md").read_text()
REPORTS = (DOCS / "reports.md").read_text()
EXPORT_URLS = re.findall(r'"http://localhost:8000(/export/[^"]+)"', EXPORTS)


def _commands(text: str) -> list[list[str]]:
    """Each `aize-analytics ...` line of the bash blocks, continuation lines joined."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for command in block.replace("\\\n", " ").splitlines():
            if command.startswith("aize-analytics "):
                commands.append(command.split()[1:])
    return commands


def test_the_exports_doc_shows_every_endpoint() -> None:
    assert [url.split("?")[0] for url in EXPORT_URLS] == [
        "/export/request-logs.csv",
        "/export/request-logs.csv",
        "/export/request-logs.jsonl",
        "/export/usage/trend.csv",
        "/export/usage/breakdown.csv",
    ]


@pytest.mark.parametrize("url", EXPORT_URLS)
async def test_every_curl_example_answers_200(client: httpx.AsyncClient, url: str) -> None:
    org = await make_org()
    admin = await make_member(org, Role.ADMIN)
    key = await make_key(org, admin)
    await store(make_record(org, key, admin, datetime.now(UTC) - timedelta(hours=1)))

    response = await client.get(url, headers={"Authorization": f"Bearer {await make_token(admin)}"})

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("argv", _commands(EXPORTS))
def test_every_export_command_parses(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)

    assert args.command == "export"


async def test_the_reports_query_runs(client: httpx.AsyncClient, db: object) -> None:
    blocks = re.findall(r"```graphql\n(.*?)```", REPORTS, re.S)
    [query] = [block for block in blocks if "query Reports" in block]
    org = await make_org()
    owner = await make_member(org, Role.OWNER)

    result = await gql(client, await make_token(owner), query)

    assert result.errors is None
    assert result.data == {
        "organization": {
            "reports": {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}
        }
    }
