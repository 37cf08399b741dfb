"""docs/readme/gateway.md, run end to end: its commands in bash from an empty SQLite
database, the service it starts, and its curl calls, each answering what the page shows."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.docs_examples import ROOT, CurlCall, examples, run_shell

PAGE = ROOT / "docs" / "readme" / "gateway.md"
STEPS = [e for e in examples(PAGE) if e.walk_through]
CLI = Path(sys.executable).parent / "aize-analytics"
# The gateway key the page registers, with the page's `key add` (directory sync) step.
PAGE_KEY = ("sk-live-7c1e", "Production backend")


def test_the_page_has_its_steps() -> None:
    assert [e.text.split()[0] for e in STEPS] == [
        "export",  # database, migrate, organization, owner
        "export",  # tokens
        "aize-analytics",  # serve
        "curl",  # deposit
        "curl",  # keyAccess
        "uuid()",  # ingest
        "curl",  # dashboard
    ]


def _register_key_as_the_page_does(database: Path) -> None:
    """Stands in for the page's `aize-analytics key add` step, which directory sync brings:
    the key row that command creates. (After merging, run that command here instead.)"""
    with sqlite3.connect(database) as conn:
        [(org_id,)] = conn.execute("SELECT id FROM organization WHERE slug = 'example-co'")
        conn.execute(
            "INSERT INTO api_key (organization_id, label, prefix, status, created_at) "
            "VALUES (?, ?, ?, 'ACTIVE', ?)",
            (org_id, PAGE_KEY[1], PAGE_KEY[0], datetime.now(UTC).isoformat(sep=" ")),
        )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[list[CurlCall], int]]:
    """The page's shell steps run (the curl calls recorded), then its `serve` on a free port."""
    env = {"PATH": f"{CLI.parent}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path)}
    shell = [e.text for e in STEPS if not e.text.startswith("aize-analytics serve")]
    calls = run_shell("\n".join(shell), tmp_path, env)
    _register_key_as_the_page_does(tmp_path / "aize-analytics.sqlite3")
    process = subprocess.Popen(
        [str(CLI), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # The database the page exported in step 1 (a relative path: the same folder).
        env={**env, "AIZE_DATABASE_URL": "sqlite://./aize-analytics.sqlite3"},
        cwd=tmp_path,
    )
    try:
        assert process.stderr is not None
        port = None
        for line in process.stderr:
            if "Uvicorn running on" in line:
                port = int(line.rsplit(":", 1)[1].split()[0])
                break
        assert port is not None, "serve did not start"
        yield calls, port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_gateway_page_runs_from_an_empty_database_to_a_dashboard(
    served: tuple[list[CurlCall], int],
) -> None:
    calls, port = served
    shown = [e.shown for e in STEPS if "curl" in e.text]

    answers = [
        httpx.request(
            call.method,
            f"http://127.0.0.1:{port}{call.path}",
            headers=call.headers,
            content=call.body,
            timeout=30,
        )
        for call in calls
    ]

    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    for answer, expected in zip(answers, shown, strict=True):
        assert expected is not None
        body = answer.json()
        body.pop("extensions", None)
        assert body == json.loads(expected)
