"""`aize-analytics maintain`, run as a real process against a scratch SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def maintain(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "AIZE_DATABASE_URL": f"sqlite://{tmp_path / 'maintain.sqlite3'}",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "maintain"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=120,
    )


def test_maintain_prints_what_it_did_as_json(tmp_path: Path) -> None:
    result = maintain(tmp_path, AIZE_RAW_RETENTION_MONTHS="12")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "createdPartitions": [],
        "movedRows": 0,
        "droppedPartitions": [],
        "deletedRows": 0,
        "prunedRequestIds": 0,
        "skipped": False,
    }


def test_a_bad_retention_setting_is_a_one_line_error(tmp_path: Path) -> None:
    result = maintain(tmp_path, AIZE_RAW_RETENTION_MONTHS="-1")

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "aize-analytics: error: AIZE_RAW_RETENTION_MONTHS must be at least 0, got -1"
    )
