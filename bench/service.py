"""The real service for the benchmarks: uvicorn in a subprocess on a free loopback port,
and read tokens for an organization's owner or one of its members."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from auth.tokens import issue_token
from models.database import close_database, init_database
from models.member import Member, Role
from settings import Settings

# The benchmark measures the service, not the abuse limits: a budget no run can exhaust.
_UNLIMITED = "1000000000"


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def owner_token(database_url: str, organization_id: int) -> str:
    """A new read token for the organization's owner."""
    return (await owner_tokens(database_url, organization_id, 1, "dashboard bench"))[0]


async def owner_tokens(database_url: str, organization_id: int, count: int, name: str) -> list[str]:
    """`count` new tokens of the organization's one owner (the owner's default scopes:
    read and export), named `name` and a number."""
    await init_database(Settings.from_env({"AIZE_DATABASE_URL": database_url}))
    try:
        owner = await Member.get(organization_id=organization_id, role=Role.OWNER)
        return [
            (await issue_token(organization_id, owner, name if count == 1 else f"{name} {i}")).token
            for i in range(count)
        ]
    finally:
        await close_database()


async def member_token(database_url: str, organization_id: int, member_id: int) -> str:
    """A new read token for one member of the organization (their default scopes)."""
    await init_database(Settings.from_env({"AIZE_DATABASE_URL": database_url}))
    try:
        member = await Member.get(organization_id=organization_id, id=member_id)
        return (await issue_token(organization_id, member, "tag bench")).token
    finally:
        await close_database()


@asynccontextmanager
async def running_service(
    database_url: str, workers: int = 1, pool_max: int = 10
) -> AsyncIterator[str]:
    """Start the service for reading benchmarks (no alert worker, no rate limit) and yield
    its base URL; stops it (and waits for it) on exit."""
    async with serving(
        database_url,
        workers,
        {
            "AIZE_ALERT_WORKER": "false",
            "AIZE_DB_POOL_MAX": str(pool_max),
            "AIZE_RATE_LIMIT_CAPACITY": _UNLIMITED,
            "AIZE_RATE_LIMIT_REFILL_PER_SECOND": _UNLIMITED,
        },
    ) as url:
        yield url


@asynccontextmanager
async def serving(database_url: str, workers: int, settings: dict[str, str]) -> AsyncIterator[str]:
    """`start_service` with `settings` as a context: yields the base URL, stops the service
    (and waits for it) on exit."""
    async with service_process(database_url, workers, settings) as (_, url):
        yield url


@asynccontextmanager
async def service_process(
    database_url: str, workers: int, settings: dict[str, str]
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """`start_service` as a context: yields the process (to kill it, read its pid) and the
    base URL; on exit terminates it unless it has ended, and waits for it."""
    process, url = await start_service(database_url, workers, settings)
    try:
        yield process, url
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


async def start_service(
    database_url: str, workers: int = 1, settings: dict[str, str] | None = None
) -> tuple[asyncio.subprocess.Process, str]:
    """Start `uvicorn --factory web.app:app_from_env` on a free port with `settings` added
    to the environment; returns the process (the caller stops it) and its base URL once
    /healthz answers."""
    port = free_port()
    env = {
        **os.environ,
        "AIZE_DATABASE_URL": database_url,
        "AIZE_LOG_LEVEL": "warning",
        **(settings or {}),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "web.app:app_from_env",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_healthy(url, process)
    except BaseException:
        if process.returncode is None:
            process.terminate()
        await process.wait()
        raise
    return process, url


async def _wait_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if process.returncode is not None:
                raise RuntimeError(f"the service exited with code {process.returncode}")
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the service did not become healthy within 30 s")
