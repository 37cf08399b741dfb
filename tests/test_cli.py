"""The `aize-analytics` command, run as a real process against a scratch SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

CLI = [sys.executable, "-m", "cli.main"]
ROOT = Path(__file__).resolve().parent.parent


def run(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "AIZE_DATABASE_URL": f"sqlite://{tmp_path / 'cli.sqlite3'}",
        "PYTHONPATH": str(ROOT),
        **(env or {}),
    }
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=environment, cwd=ROOT, timeout=120
    )


@pytest.mark.parametrize(
    "command",
    [
        "serve",
        "migrate",
        "demo",
        "create-org",
        "add-member",
        "create-token",
        "revoke-token",
        "export-schema",
        "billing-contract",
    ],
)
def test_every_command_has_help(tmp_path: Path, command: str) -> None:
    result = run(tmp_path, command, "--help")

    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: aize-analytics {command}")


def test_bad_arguments_get_one_line_and_a_nonzero_exit(tmp_path: Path) -> None:
    result = run(tmp_path, "create-org")

    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "the following arguments are required: name" in result.stderr


def test_unknown_organization_is_a_one_line_error(tmp_path: Path) -> None:
    result = run(tmp_path, "add-member", "nope", "a@example.com")

    assert result.returncode == 1
    assert result.stderr == "aize-analytics: error: no organization 'nope'\n"


def test_bad_timezone_is_refused(tmp_path: Path) -> None:
    result = run(tmp_path, "create-org", "Acme", "--timezone", "Mars/Olympus")

    assert result.returncode == 1
    assert result.stderr == "aize-analytics: error: unknown timezone 'Mars/Olympus'\n"


def test_unusable_database_url_is_one_line_and_nonzero(tmp_path: Path) -> None:
    result = run(tmp_path, "serve", env={"AIZE_DATABASE_URL": "postgres://nobody@127.0.0.1:1/x"})

    assert result.returncode == 1
    assert result.stderr.startswith("aize-analytics: error: cannot connect to the database")
    assert result.stderr.count("\n") == 1


def test_organization_member_and_token_administration(tmp_path: Path) -> None:
    created = run(
        tmp_path,
        "create-org",
        "Acme AI",
        "--timezone",
        "Asia/Kolkata",
        "--markup-percent",
        "25",
        "--fixed-fee",
        "0.01",
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout == "created organization acme-ai (id 1)\n"

    added = run(tmp_path, "add-member", "acme-ai", "ada@acme.example", "--role", "OWNER")
    assert added.stdout == "added ada@acme.example to acme-ai as OWNER (id 1)\n"

    duplicate = run(tmp_path, "add-member", "acme-ai", "ada@acme.example")
    assert duplicate.returncode == 1
    assert "already a member" in duplicate.stderr

    issued = run(tmp_path, "create-token", "acme-ai", "--member", "ada@acme.example")
    token = issued.stdout.strip()
    assert issued.returncode == 0 and token.startswith("aize_") and len(token) == 45

    ingest = run(tmp_path, "create-token", "acme-ai", "--ingest")
    assert ingest.returncode == 0 and ingest.stdout.startswith("aize_")

    revoked = run(tmp_path, "revoke-token", token[:12])
    assert revoked.returncode == 0
    assert revoked.stdout.startswith(f"revoked token {token[:12]}")

    again = run(tmp_path, "revoke-token", token[:12])
    assert again.returncode == 1
    assert "no active token matches" in again.stderr


def test_export_schema_prints_the_sdl(tmp_path: Path) -> None:
    result = run(tmp_path, "export-schema")

    assert result.returncode == 0
    assert result.stdout == (ROOT / "schema.graphql").read_text()


def test_demo_prints_its_tokens_as_json(tmp_path: Path) -> None:
    result = run(tmp_path, "demo", "--requests", "300", "--json")

    assert result.returncode == 0, result.stderr
    tokens = json.loads(result.stdout)
    assert sorted(tokens) == ["admin", "directory", "ingest", "member", "owner"]
    assert all(t.startswith("aize_") for t in tokens.values())

    second = run(tmp_path, "demo", "--requests", "300")
    assert second.returncode == 1
    assert "already exists" in second.stderr


def test_serve_with_demo_answers_the_owner_viewer(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "AIZE_DATABASE_URL": f"sqlite://{tmp_path / 'serve.sqlite3'}",
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [*CLI, "serve", "--demo", "--requests", "400", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        banner = [process.stdout.readline() for _ in range(6)]
        owner = next(line for line in banner if "Owner  token:" in line).split()[2]
        # uvicorn reports the real port once it is listening (port 0 = any free port).
        port = None
        for line in process.stderr:
            if "Uvicorn running on" in line:
                port = int(line.rsplit(":", 1)[1].split()[0])
                break
        assert port is not None
        response = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "{ viewer { role organization { name } } }"},
            headers={"Authorization": f"Bearer {owner}"},
            timeout=30,
        )
        assert response.json()["data"] == {
            "viewer": {"role": "OWNER", "organization": {"name": "Acme AI"}}
        }
        # The usage page's address, printed beside GraphiQL's.
        page_line = next(line for line in banner if line.startswith("Usage page: "))
        assert page_line.split()[2] == "http://127.0.0.1:0/usage/"
        page = httpx.get(f"http://127.0.0.1:{port}/usage/", timeout=30)
        assert page.status_code == 200
        assert "<h1>Usage Analytics</h1>" in page.text
    finally:
        process.terminate()
        process.wait(timeout=30)
