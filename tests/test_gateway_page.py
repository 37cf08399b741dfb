"""docs/readme/gateway.md, run end to end: its commands in bash from an empty SQLite
database, the service it starts, and its curl calls, each answering what the page shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.docs_examples import ROOT, CurlCall, examples, run_shell

PAGE = ROOT / "docs" / "readme" / "gateway.md"
STEPS = [e for e in examples(PAGE) if e.walk_through]
CLI = Path(sys.executable).parent / "aize-analytics"
# The gateway key the page registers with `key add`, and then asks keyAccess about and
# ingests a request for.
PAGE_KEY = "sk-live-7c1e"


def test_the_page_has_its_steps() -> None:
    assert [e.text.split()[0] for e in STEPS] == [
        "export",  # database, migrate, organization, owner
        "export",  # tokens: ingest, directory, dashboard
        "aize-analytics",  # serve
        "curl",  # deposit
        "aize-analytics",  # key add
        "curl",  # directory sync
        "curl",  # keyAccess
        "uuid()",  # ingest
        "curl",  # dashboard
    ]
    assert STEPS[4].text.startswith(f"aize-analytics key add example-co {PAGE_KEY}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[list[CurlCall], int]]:
    """The page's shell steps run (the curl calls recorded), then its `serve` on a free port."""
    env = {"PATH": f"{CLI.parent}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path)}
    shell = [e.text for e in STEPS if not e.text.startswith("aize-analytics serve")]
    calls = run_shell("\n".join(shell), tmp_path, env)
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
    served: tuple[list[CurlCall], int], tmp_path: Path
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

    assert [a.status_code for a in answers] == [200, 200, 200, 200, 200]
    for answer, expected in zip(answers, shown, strict=True):
        assert expected is not None
        body = answer.json()
        body.pop("extensions", None)
        assert body == json.loads(expected)
    listed = subprocess.run(
        [str(CLI), "key", "list", "example-co", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "AIZE_DATABASE_URL": "sqlite://./aize-analytics.sqlite3"},
        cwd=tmp_path,
        check=True,
    )
    keys = [
        (k["externalId"], k["prefix"], k["owner"], k["status"])
        for k in json.loads(listed.stdout)["keys"]
    ]
    assert keys == [
        ("key_1", PAGE_KEY, None, "ACTIVE"),  # `key add`
        ("key_2", "sk-live-9d20", "dev@example.com", "ACTIVE"),  # /directory/bulk
    ]
