"""The `graphql-http` server audit (npm package graphql-http, its serverAudits): every audit
of the GraphQL over HTTP spec answers ok against the served app, with an Owner's token.

The audit's package is installed at test time into tests/graphql_http_audit/ (pinned in its
package.json and package-lock.json) with `npm ci`; Node 20 and npm are on every machine of
this project. Without them the test is skipped with the reason, except under CI, where it
fails.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest
from starlette.applications import Starlette

from models.member import Role
from tests.factories import make_member, make_org, make_token
from tests.served_app import served

AUDIT_DIR = Path(__file__).parent / "graphql_http_audit"
# npm ci and the audit's 60-odd requests: a few seconds on a quiet machine.
NPM_TIMEOUT_SECONDS = 300
AUDIT_TIMEOUT_SECONDS = 120


def _node_tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        reason = "node and npm are needed for the graphql-http audit"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (required under CI)")
        pytest.skip(reason)
    return node, npm


async def _run(*command: str, cwd: Path, deadline_seconds: float) -> str:
    """The command's standard output; fails the test with its output if it exits non-zero."""
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(deadline_seconds):
        stdout, stderr = await process.communicate()
    if process.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {process.returncode}:\n{stderr.decode()}")
    return stdout.decode()


async def _install_audit(npm: str) -> None:
    if (AUDIT_DIR / "node_modules" / "graphql-http" / "package.json").exists():
        return
    await _run(
        npm, "ci", "--no-audit", "--no-fund", cwd=AUDIT_DIR, deadline_seconds=NPM_TIMEOUT_SECONDS
    )


async def test_every_graphql_http_audit_is_ok_with_an_owner_token(app: Starlette) -> None:
    node, npm = _node_tools()
    await _install_audit(npm)
    token = await make_token(await make_member(await make_org(), Role.OWNER))
    async with served(app) as base_url:
        output = await _run(
            node,
            "audit.mjs",
            f"{base_url}/graphql",
            token,
            cwd=AUDIT_DIR,
            deadline_seconds=AUDIT_TIMEOUT_SECONDS,
        )
    results = [json.loads(line) for line in output.splitlines() if line.strip()]
    not_ok = [r for r in results if r["status"] != "ok"]
    assert not_ok == []
    # The audit of graphql-http 1.23.1 has 61 checks; all of them ran.
    assert len(results) == 61
