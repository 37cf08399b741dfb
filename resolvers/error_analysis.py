"""Error analysis: failed requests (any non-2xx status) grouped by status code and by
error-message pattern, with counts, first/last seen and the keys and models most affected.

Messages are grouped after normalization: quoted strings, UUIDs, hex ids and numbers become
placeholders, so "Rate limit exceeded for key 'k-19', retry in 20s" and the same message
for another key and delay form one pattern. Reads raw rows (one SQL statement) because
messages are not rolled up.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from models.database import Params, current_dialect, fetch_all, parse_db_datetime
from resolvers.scope import LogFilter, Scope, scoped_conditions

NO_MESSAGE = "(no message)"
TOP_AFFECTED = 5
_Key = TypeVar("_Key", int, str)

# Boundaries treat "_" and "-" as separators, so "req_8f3a9c2b1d" still yields an id.
_QUOTED = re.compile(r"""(?<![A-Za-z0-9])(?:'[^'\n]*'|"[^"\n]*"|`[^`\n]*`)""")
_UUID = re.compile(
    r"(?<![0-9A-Za-z])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12}(?![0-9A-Za-z])"
)
_HEX = re.compile(
    r"(?<![0-9A-Za-z])(?:0[xX][0-9a-fA-F]+|(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])"
    r"[0-9a-fA-F]{8,})(?![0-9A-Za-z])"
)
# Not after a letter or digit, so "v1" and "gpt4o" keep their digits; "20s" -> "<num>s".
_NUMBER = re.compile(r"(?<![A-Za-z0-9.])\d+(?:\.\d+)?")
_SPACES = re.compile(r"\s+")


def normalize_error_message(message: str | None) -> str:
    """The message's pattern: quoted strings -> <str>, UUIDs -> <uuid>, hex ids -> <hex>,
    numbers -> <num>, runs of whitespace -> one space. None or blank -> "(no message)"."""
    if message is None or not message.strip():
        return NO_MESSAGE
    pattern = _QUOTED.sub("<str>", message)
    pattern = _UUID.sub("<uuid>", pattern)
    pattern = _HEX.sub("<hex>", pattern)
    pattern = _NUMBER.sub("<num>", pattern)
    return _SPACES.sub(" ", pattern).strip()


@dataclass(slots=True)
class ErrorGroup:
    """Failed requests sharing a status code or a message pattern (times in UTC)."""

    count: int
    first_seen: datetime
    last_seen: datetime
    # The most recent raw message in the group (the first variant seen when tied).
    sample_message: str | None
    status_codes: Counter[int] = field(default_factory=Counter)
    api_keys: Counter[int] = field(default_factory=Counter)
    models: Counter[str] = field(default_factory=Counter)

    def add(self, row: _ErrorRow) -> None:
        self.count += row.count
        self.first_seen = min(self.first_seen, row.first_seen)
        if row.last_seen > self.last_seen:
            self.last_seen, self.sample_message = row.last_seen, row.message
        self.status_codes[row.status_code] += row.count
        self.api_keys[row.api_key_id] += row.count
        self.models[row.model] += row.count

    def top_api_keys(self, n: int = TOP_AFFECTED) -> list[tuple[int, int]]:
        """(api key id, failed requests), most affected first, ties by id."""
        return sorted(self.api_keys.items(), key=lambda item: (-item[1], item[0]))[:n]

    def top_models(self, n: int = TOP_AFFECTED) -> list[tuple[str, int]]:
        """(model alias, failed requests), most affected first, ties by alias."""
        return sorted(self.models.items(), key=lambda item: (-item[1], item[0]))[:n]


@dataclass(frozen=True, slots=True)
class ErrorAnalysis:
    failed_requests: int
    # Both lists: most failed requests first, ties by status code / pattern.
    by_status_code: list[tuple[int, ErrorGroup]]
    by_pattern: list[tuple[str, ErrorGroup]]


@dataclass(frozen=True, slots=True)
class _ErrorRow:
    status_code: int
    message: str | None
    api_key_id: int
    model: str
    count: int
    first_seen: datetime
    last_seen: datetime

    def new_group(self) -> ErrorGroup:
        group = ErrorGroup(0, self.first_seen, self.last_seen, self.message)
        group.add(self)
        return group


async def error_analysis(scope: Scope, log_filter: LogFilter) -> ErrorAnalysis:
    """Failed requests matching the filter, grouped by status code and message pattern."""
    params = Params(current_dialect())
    conditions = scoped_conditions(scope, log_filter, params)
    conditions.append("NOT (status_code >= 200 AND status_code < 300)")
    sql = (
        "SELECT status_code, error_message, api_key_id, model, COUNT(*) AS requests, "
        "MIN(timestamp) AS first_seen, MAX(timestamp) AS last_seen FROM request_log "
        f"WHERE {' AND '.join(conditions)} GROUP BY status_code, error_message, api_key_id, model"
    )
    rows = sorted(
        (_row(r) for r in await fetch_all(sql, params, may_lag=True)),
        # A fixed order makes the sample message deterministic among equal timestamps.
        key=lambda r: (r.status_code, r.message or "", r.api_key_id, r.model),
    )
    by_code: dict[int, ErrorGroup] = {}
    by_pattern: dict[str, ErrorGroup] = {}
    patterns: dict[str | None, str] = {}
    for row in rows:
        _add(by_code, row.status_code, row)
        if row.message not in patterns:
            patterns[row.message] = normalize_error_message(row.message)
        _add(by_pattern, patterns[row.message], row)
    return ErrorAnalysis(
        failed_requests=sum(row.count for row in rows),
        by_status_code=sorted(by_code.items(), key=lambda item: (-item[1].count, item[0])),
        by_pattern=sorted(by_pattern.items(), key=lambda item: (-item[1].count, item[0])),
    )


def _add(groups: dict[_Key, ErrorGroup], key: _Key, row: _ErrorRow) -> None:
    group = groups.get(key)
    if group is None:
        groups[key] = row.new_group()
    else:
        group.add(row)


def _row(row: dict[str, Any]) -> _ErrorRow:
    return _ErrorRow(
        status_code=int(row["status_code"]),
        message=row["error_message"],
        api_key_id=int(row["api_key_id"]),
        model=str(row["model"]),
        count=int(row["requests"]),
        first_seen=parse_db_datetime(row["first_seen"]),
        last_seen=parse_db_datetime(row["last_seen"]),
    )
