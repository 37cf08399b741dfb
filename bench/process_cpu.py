"""CPU seconds used by processes, read from /proc (Linux): the benchmark's service workers
and the PostgreSQL backends serving its database. On a machine shared with other work the
records/s figure moves with the neighbours' load; CPU per record does much less."""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg

_PROC = Path("/proc")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 when it is gone)."""
    try:
        fields = (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants (e.g. uvicorn and its workers)."""
    found = [pid]
    for task in (_PROC / str(pid) / "task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:
            continue
        for child in children:
            found.extend(process_tree(int(child)))
    return found


async def backend_pids(admin: asyncpg.Connection, database: str) -> list[int]:
    """PostgreSQL server processes connected to `database` (local server only)."""
    rows = await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", database)
    return [int(row["pid"]) for row in rows]


def available() -> bool:
    """True where /proc exposes per-process CPU times."""
    return (_PROC / "self" / "stat").exists()


def load_average() -> float:
    """The 1-minute load average (how busy the machine is), or -1 where unknown."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return -1.0
