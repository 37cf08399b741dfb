"""AIZE_LOG_FORMAT=json: `serve` writes every log line, uvicorn's and the access log, as JSON."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from observability.json_logs import json_log_config
from settings import Settings, SettingsError

DEADLINE_SECONDS = 60.0


async def _json_line(stream: asyncio.StreamReader) -> dict[str, Any]:
    line = await stream.readline()
    assert line, "the server closed its output"
    parsed: dict[str, Any] = json.loads(line)
    return parsed


async def test_serve_logs_json_lines_on_stderr_and_the_access_log_on_stdout(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "AIZE_LOG_FORMAT": "json",
        "AIZE_DATABASE_URL": f"sqlite://{tmp_path / 'logs.sqlite3'}",
        "AIZE_ALERT_WORKER": "false",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli.main",
        "serve",
        "--port",
        "0",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        async with asyncio.timeout(DEADLINE_SECONDS):
            # The first stdout line is the plain banner (GraphQL address), not a log line.
            banner = await process.stdout.readline()
            assert banner.startswith(b"GraphQL (GraphiQL in a browser):")
            errors: list[dict[str, Any]] = []
            while not any("Uvicorn running on" in e["message"] for e in errors):
                errors.append(await _json_line(process.stderr))
            running = errors[-1]
            port = re.search(r":(\d+) \(Press CTRL\+C", running["message"])
            assert port is not None
            async with httpx.AsyncClient() as client:
                health = await client.get(f"http://127.0.0.1:{port.group(1)}/healthz")
            access = await _json_line(process.stdout)
    finally:
        process.terminate()
        await process.wait()

    assert health.status_code == 200
    assert {e["logger"] for e in errors} >= {"uvicorn.error"}
    assert running["level"] == "INFO"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", running["time"])
    assert sorted(access) == ["level", "logger", "message", "time"]
    assert access["logger"] == "uvicorn.access"
    assert access["level"] == "INFO"
    assert '"GET /healthz HTTP/1.1" 200' in access["message"]


def test_the_config_sends_the_services_own_loggers_through_the_json_formatter() -> None:
    config = json_log_config("warning")

    assert config["loggers"]["aize"] == {
        "handlers": ["default"],
        "level": "WARNING",
        "propagate": False,
    }
    assert config["formatters"]["json"]["()"] == "pythonjsonlogger.json.JsonFormatter"


def test_an_unknown_log_format_is_refused() -> None:
    assert Settings.from_env({"AIZE_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(SettingsError, match="AIZE_LOG_FORMAT must be text or json, got 'xml'"):
        Settings.from_env({"AIZE_LOG_FORMAT": "xml"})
