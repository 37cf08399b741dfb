"""Request log export rows, streamed in keyset-ordered chunks through the scope.

The rows are exactly those `Organization.requestLogs` pages through for the same filter and
viewer, in the same order (newest first: timestamp DESC, id DESC). Each chunk is one keyset
query of `CHUNK_ROWS` rows on the index that leads with the organization, continuing
strictly after the last row of the previous chunk (the pagination helper's
`keyset_older_than`; never OFFSET), so memory holds one chunk whatever the export's size.
Key labels and member names come from maps loaded once, never from per-row queries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from exports.formats import Column, ColumnKind, Row, text
from models.attribution import stored_tags
from models.database import Params, current_dialect, fetch_all, parse_db_datetime
from models.global_ids import encode_global_id
from models.request_log_columns import LOG_ROW, Shown
from models.timestamps import format_instant
from pricing.money import format_usd
from resolvers.log_pages import log_conditions
from resolvers.pagination import KeysetCursor, keyset_older_than
from resolvers.scope import LogFilter, Scope, check_filter

CHUNK_ROWS = 5_000

# id -> (global id, label or name), loaded once per export.
_Names = dict[int, tuple[str, str]]
# How a cell is made from its column's value (None: the value as read).
_Render = Callable[[Any], object] | None
_Plan = tuple[tuple[str, _Render], ...]


def _json_value(value: object) -> object:
    """A JSON column as read back by either driver (text on SQLite and from asyncpg)."""
    if isinstance(value, str | bytes):
        return orjson.loads(value)
    return value


# Each column LOG_ROW shows (models/request_log_columns.py), by how it is shown: its export
# column's kind and how its cell is made (None: as read). A key adds a column of its label
# and a member one of their name (`_NAMED`, `_cell_plan`); bodies come only with
# include_bodies.
_KINDS: dict[Shown, tuple[ColumnKind, _Render]] = {
    Shown.UUID: (ColumnKind.VALUE, str),
    Shown.INSTANT: (ColumnKind.VALUE, lambda value: format_instant(parse_db_datetime(value))),
    Shown.API_KEY: (ColumnKind.VALUE, None),
    Shown.MEMBER: (ColumnKind.VALUE, None),
    Shown.TEXT: (ColumnKind.TEXT, None),
    Shown.COUNT: (ColumnKind.VALUE, int),
    # Both drivers read a bigint column as an int (SQLite by the column's integer affinity),
    # which is all format_usd accepts.
    Shown.MONEY: (ColumnKind.VALUE, format_usd),
    Shown.FLAG: (ColumnKind.VALUE, bool),
    Shown.JSON: (ColumnKind.JSON, _json_value),
    # The tags as a JSON array (in CSV its JSON text, e.g. ["feature:chat","team:search"]).
    Shown.TAGS: (ColumnKind.JSON, lambda value: list(stored_tags(value))),
    Shown.BODY: (ColumnKind.TEXT, None),
}
_EXPORTED = tuple(column for column in LOG_ROW if column.shown is not Shown.HIDDEN)
_NAMED = {Shown.API_KEY: "apiKeyLabel", Shown.MEMBER: "memberName"}


def _columns(include_bodies: bool) -> tuple[Column, ...]:
    columns: list[Column] = []
    for column in _EXPORTED:
        if column.shown is Shown.BODY and not include_bodies:
            continue
        columns.append(Column(column.api_name, _KINDS[column.shown][0]))
        if column.shown in _NAMED:
            columns.append(text(_NAMED[column.shown]))
    return tuple(columns)


LOG_COLUMNS = _columns(include_bodies=False)
BODY_COLUMNS = _columns(include_bodies=True)[len(LOG_COLUMNS) :]

_SELECT = ", ".join(
    ("id", *(column.name for column in _EXPORTED if column.shown is not Shown.BODY))
)
_BODIES = ", ".join(column.name for column in _EXPORTED if column.shown is Shown.BODY)


@dataclass(frozen=True, slots=True)
class LogExport:
    """An export ready to stream: its columns, and its rows chunk by chunk."""

    columns: tuple[Column, ...]
    chunks: AsyncIterator[list[Row]]


async def request_log_export(
    scope: Scope,
    log_filter: LogFilter,
    *,
    include_bodies: bool,
    search: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> LogExport:
    """The viewer's request logs matching the filter and the search text if any (as
    `requestLogs(filter, search)`), newest first, as export rows (money
    as plain USD strings, timestamps RFC 3339 in UTC with 6 fractional digits, ids global
    as in the API).

    Bodies are included only with `include_bodies` (the organization keeps them). Raises
    ForbiddenError at once when the filter reaches outside the scope; nothing is read from
    request_log until the chunks are iterated.
    """
    check_filter(scope, log_filter)
    keys = {
        key_id: (encode_global_id("ApiKey", key_id), label)
        for key_id, label in await scope.api_keys(include_team_keys=True).values_list("id", "label")
    }
    members = {
        member_id: (encode_global_id("Member", member_id), name)
        for member_id, name in await scope.members().values_list("id", "name")
    }
    columns = LOG_COLUMNS + (BODY_COLUMNS if include_bodies else ())
    chunks = _chunks(scope, log_filter, search, include_bodies, chunk_rows, keys, members)
    return LogExport(columns, chunks)


async def _chunks(
    scope: Scope,
    log_filter: LogFilter,
    search: str | None,
    include_bodies: bool,
    chunk_rows: int,
    keys: _Names,
    members: _Names,
) -> AsyncIterator[list[Row]]:
    select = f"{_SELECT}, {_BODIES}" if include_bodies else _SELECT
    plan = _cell_plan(include_bodies, keys, members)
    after: KeysetCursor | None = None
    while True:
        params = Params(current_dialect())
        conditions = log_conditions(scope, log_filter, search, params)
        if after is not None:
            conditions.append(keyset_older_than(after, params))
        sql = (
            f"SELECT {select} FROM request_log WHERE {' AND '.join(conditions)} "
            f"ORDER BY timestamp DESC, id DESC LIMIT {params.add(chunk_rows)}"
        )
        rows = await fetch_all(sql, params, may_lag=True)
        if not rows:
            return
        yield [_row(row, plan) for row in rows]
        if len(rows) < chunk_rows:
            return
        last = rows[-1]
        # The cursor keeps the timestamp exactly as the database compared it.
        after = KeysetCursor(timestamp=parse_db_datetime(last["timestamp"]), id=int(last["id"]))


def _cell_plan(include_bodies: bool, keys: _Names, members: _Names) -> _Plan:
    """Each cell of a row, in the columns' order: the request_log column it is made from
    and how."""

    def key_id(value: int) -> str:
        found = keys.get(int(value))
        return found[0] if found else encode_global_id("ApiKey", int(value))

    def key_label(value: int) -> str | None:
        found = keys.get(int(value))
        return found[1] if found else None

    def member_id(value: int | None) -> str | None:
        if value is None:
            return None
        found = members.get(int(value))
        return found[0] if found else encode_global_id("Member", int(value))

    def member_name(value: int | None) -> str | None:
        found = None if value is None else members.get(int(value))
        return found[1] if found else None

    named: dict[Shown, tuple[_Render, _Render]] = {
        Shown.API_KEY: (key_id, key_label),
        Shown.MEMBER: (member_id, member_name),
    }
    plan: list[tuple[str, _Render]] = []
    for column in _EXPORTED:
        if column.shown is Shown.BODY and not include_bodies:
            continue
        if column.shown in named:
            plan += [(column.name, render) for render in named[column.shown]]
        else:
            plan.append((column.name, _KINDS[column.shown][1]))
    return tuple(plan)


def _row(row: Mapping[str, Any], plan: _Plan) -> Row:
    return [row[name] if render is None else render(row[name]) for name, render in plan]
