"""PROMETHEUS_MULTIPROC_DIR: two uvicorn workers answer /metrics with both workers' counts.

uvicorn runs as `serve --workers 2` runs it (`--factory web.app:app_from_env`), with a
longer worker health check than its 5 s default: on a busy shared machine a worker still
importing the app after 5 s is killed and restarted (the same happens to `serve --workers`).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import httpx

from tests.alert_receivers import free_port
from tests.metrics_support import METRICS_TOKEN, value

DEADLINE_SECONDS = 240.0
HEALTHCHECK_SECONDS = "60"
PAGE_REQUESTS = 12


async def _wait_until_up(base: str) -> None:
    async with httpx.AsyncClient() as client:
        while True:
            try:
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)  # a poll under the caller's deadline


async def test_two_workers_add_up_in_one_scrape(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "AIZE_DATABASE_URL": f"sqlite://{tmp_path / 'workers.sqlite3'}",
        "AIZE_ALERT_WORKER": "false",
        "AIZE_METRICS_TOKEN": METRICS_TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "AIZE_LOG_LEVEL": "warning",
    }
    migrate_env = {k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    migrate = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli.main", "migrate", env=migrate_env
    )
    assert await migrate.wait() == 0
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "uvicorn", "--factory", "web.app:app_from_env", "--workers", "2"),
        *("--port", str(port), "--timeout-worker-healthcheck", HEALTHCHECK_SECONDS),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with asyncio.timeout(DEADLINE_SECONDS):
            await _wait_until_up(base)
            # A new connection per request, so the kernel spreads them over both workers.
            no_reuse = httpx.Limits(max_keepalive_connections=0)
            async with httpx.AsyncClient(limits=no_reuse) as client:
                pages = [
                    await client.get(f"{base}/graphql", headers={"Accept": "text/html"})
                    for _ in range(PAGE_REQUESTS)
                ]
                scraped = await client.get(
                    f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
                )
    finally:
        server.terminate()
        await server.wait()

    assert [p.status_code for p in pages] == [200] * PAGE_REQUESTS
    assert scraped.status_code == 200
    from prometheus_client.parser import text_string_to_metric_families

    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(scraped.text)
        for s in family.samples
    }
    count = value(samples, "aize_http_requests_total", route="/graphql", operation="", status="200")
    assert count == PAGE_REQUESTS
    # Both workers write their files there (each creates its unlabelled gauges at import;
    # a worker uvicorn restarted would add a third).
    pids = {
        m.group(1)
        for f in metrics_dir.iterdir()
        if (m := re.fullmatch(r"gauge_livesum_(\d+)\.db", f.name)) is not None
    }
    assert len(pids) >= 2
