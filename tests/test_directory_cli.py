"""`aize-analytics key ...`, `member ...` and `create-token --directory`, as real processes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.test_cli import run


@pytest.fixture
def acme(tmp_path: Path) -> Path:
    """A scratch database with organization acme-ai (and its Owner, id 1)."""
    assert run(tmp_path, "create-org", "Acme AI").returncode == 0
    owner = run(tmp_path, "member", "add", "acme-ai", "owner@acme.example", "--role", "OWNER")
    assert owner.stdout == "added owner@acme.example to acme-ai as OWNER (id 1)\n", owner.stderr
    return tmp_path


def _audit(tmp_path: Path) -> list[tuple[str, str, int | None, int | None, str]]:
    with sqlite3.connect(tmp_path / "cli.sqlite3") as db:
        rows = db.execute(
            "SELECT action, via, actor_member_id, actor_token_id, changes FROM audit_entry "
            "ORDER BY id"
        ).fetchall()
    return [tuple(row) for row in rows]


def test_members_are_added_updated_listed_and_removed(acme: Path) -> None:
    added = run(acme, "member", "add", "acme-ai", "ada@acme.example", "--external-id", "u-1")
    updated = run(acme, "member", "update", "acme-ai", "u-1", "--name", "Ada", "--role", "ADMIN")
    same = run(acme, "member", "update", "acme-ai", "ada@acme.example", "--name", "Ada")
    removed = run(acme, "member", "remove", "acme-ai", "2")
    listed = run(acme, "member", "list", "acme-ai", "--json")

    assert added.stdout == "added ada@acme.example to acme-ai as MEMBER (id 2)\n"
    assert updated.stdout == "updated ada@acme.example (id 2)\n"
    assert same.stdout == "unchanged: ada@acme.example (id 2)\n"
    assert removed.stdout == "removed ada@acme.example from acme-ai\n"
    assert json.loads(listed.stdout) == {
        "organization": "acme-ai",
        "members": [
            {
                "id": 1,
                "externalId": None,
                "email": "owner@acme.example",
                "name": "owner",
                "role": "OWNER",
                "removed": False,
            },
            {
                "id": 2,
                "externalId": "u-1",
                "email": "ada@acme.example",
                "name": "Ada",
                "role": "ADMIN",
                "removed": True,
            },
        ],
    }
    trail = _audit(acme)
    assert [(action, via, member, token) for action, via, member, token, _ in trail] == [
        ("member.create", "cli", None, None),
        ("member.create", "cli", None, None),
        ("member.update", "cli", None, None),
        ("member.remove", "cli", None, None),
    ]
    assert json.loads(trail[2][4]) == {
        "name": {"old": "ada", "new": "Ada"},
        "role": {"old": "MEMBER", "new": "ADMIN"},
    }


def test_the_operator_may_make_owners_but_not_remove_the_last_one(acme: Path) -> None:
    run(acme, "member", "add", "acme-ai", "ada@acme.example")

    last = run(acme, "member", "remove", "acme-ai", "owner@acme.example")
    promoted = run(acme, "member", "update", "acme-ai", "ada@acme.example", "--role", "OWNER")
    demoted = run(acme, "member", "update", "acme-ai", "1", "--role", "ADMIN")

    assert last.returncode == 1
    assert last.stderr == "aize-analytics: error: cannot remove the organization's last Owner\n"
    assert promoted.returncode == demoted.returncode == 0
    assert demoted.stdout == "updated owner@acme.example (id 1)\n"


def test_keys_are_added_updated_revoked_and_listed(acme: Path) -> None:
    run(acme, "member", "add", "acme-ai", "ada@acme.example")

    added = run(
        acme,
        "key",
        "add",
        "acme-ai",
        "sk-gw-0001",
        "--label",
        "Prod",
        "--owner",
        "ada@acme.example",
        "--models",
        "gpt-4o,claude-3-opus",
    )
    twice = run(acme, "key", "add", "acme-ai", "sk-gw-0001")
    updated = run(acme, "key", "update", "acme-ai", "sk-gw-0001", "--team", "--all-models")
    blocked = run(acme, "key", "update", "acme-ai", "1", "--status", "BLOCKED", "--reason", "audit")
    revoked = run(acme, "key", "revoke", "acme-ai", "sk-gw-0001", "--reason", "leaked")
    again = run(acme, "key", "update", "acme-ai", "sk-gw-0001", "--status", "ACTIVE")
    listed = run(acme, "key", "list", "acme-ai", "--json")

    assert added.stdout == "added key sk-gw-0001 to acme-ai (id 1)\n"
    assert twice.returncode == 1
    assert twice.stderr == (
        "aize-analytics: error: a key with prefix 'sk-gw-0001' already exists; use key update\n"
    )
    assert updated.stdout == blocked.stdout == "updated key sk-gw-0001 (id 1)\n"
    assert revoked.stdout == "revoked key sk-gw-0001 (id 1)\n"
    assert again.stderr == (
        "aize-analytics: error: --status: the key is revoked; a revoked key is never reactivated\n"
    )
    assert json.loads(listed.stdout)["keys"] == [
        {
            "id": 1,
            "externalId": None,
            "prefix": "sk-gw-0001",
            "label": "Prod",
            "owner": None,
            "status": "REVOKED",
            "statusReason": "leaked",
            "allowedModels": None,
        }
    ]
    actions = [action for action, *_ in _audit(acme)]
    assert actions[-4:] == ["apiKey.create", "apiKey.update", "apiKey.update", "apiKey.revoke"]


def test_an_unknown_owner_or_key_is_one_line(acme: Path) -> None:
    owner = run(acme, "key", "add", "acme-ai", "sk-1", "--owner", "ghost@acme.example")
    key = run(acme, "key", "revoke", "acme-ai", "sk-nope")

    assert owner.stderr == (
        "aize-analytics: error: --owner: no member with this email in your organization\n"
    )
    assert key.stderr == "aize-analytics: error: no key 'sk-nope' in acme-ai\n"


def test_directory_tokens_are_issued_with_or_without_ingest(acme: Path) -> None:
    directory = run(acme, "create-token", "acme-ai", "--directory")
    both = run(acme, "create-token", "acme-ai", "--directory", "--also-ingest")
    stray = run(acme, "create-token", "acme-ai", "--ingest", "--also-ingest")

    assert directory.stdout.startswith("aize_") and both.stdout.startswith("aize_")
    assert stray.stderr == "aize-analytics: error: --also-ingest goes with --directory\n"
    with sqlite3.connect(acme / "cli.sqlite3") as db:
        scopes = [row[0] for row in db.execute("SELECT scopes FROM access_token ORDER BY id")]
    assert [json.loads(s) for s in scopes] == [["directory"], ["directory", "ingest"]]


@pytest.mark.parametrize("command", ["key", "member"])
def test_directory_commands_have_help(tmp_path: Path, command: str) -> None:
    result = run(tmp_path, command, "--help")

    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: aize-analytics {command}")
