"""A real `aize-analytics serve` process on the test database, for subscription tests with
real clients (gql, graphql-ws from Node): its URL, a restart on the same port, and short
live intervals so that tests wait on messages, never on clocks."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from settings import Settings

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 60
# Short intervals: a test waits for messages with a deadline, and these keep it brief.
LIVE_ENV = {
    "AIZE_ALERT_WORKER": "false",
    "AIZE_RATE_LIMIT_PAUSE_SECONDS": "0",
    "AIZE_SUBSCRIPTION_INTERVAL_SECONDS": "0.2",
    "AIZE_SUBSCRIPTION_AUTH_RECHECK_SECONDS": "0.5",
    "AIZE_SUBSCRIPTION_KEEPALIVE_SECONDS": "5",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    settings: Settings
    port: int
    extra_env: dict[str, str] = field(default_factory=dict)
    process: asyncio.subprocess.Process | None = None
    output: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    async def start(self) -> None:
        env = {
            **os.environ,
            **LIVE_ENV,
            **self.extra_env,
            "AIZE_DATABASE_URL": self.settings.database_url,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cli.main",
            "serve",
            "--port",
            str(self.port),
            cwd=REPO,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert process.stdout is not None
        stdout = process.stdout
        self.process = process
        ready = re.compile(r"Uvicorn running on")
        async with asyncio.timeout(START_TIMEOUT_SECONDS):
            while True:
                line = (await stdout.readline()).decode(errors="replace")
                if not line:
                    raise AssertionError("the service exited:\n" + "".join(self.output))
                self.output.append(line)
                if ready.search(line):
                    break

        async def drain() -> None:
            while line := await stdout.readline():
                self.output.append(line.decode(errors="replace"))

        self._reader = asyncio.create_task(drain())

    async def stop(self) -> None:
        process = self.process
        if process is None:
            return
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(15):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._reader is not None:
            await self._reader
        self.process = None


@pytest.fixture
async def live_server(db: Settings) -> AsyncIterator[LiveServer]:
    """The service running on the test database (tables emptied), on a free port."""
    server = LiveServer(db, free_port())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
