"""The orders request logs can be read in, and their keyset cursors.

A log page is ordered by one sort column, then by id in the same direction (the tie-break
that makes the order total): newest first (timestamp DESC, the default), or by customer
cost, latency or total tokens, each ascending or descending. A page after a cursor is "rows
strictly after (value, id)" in that order, never OFFSET: rows that arrive between two pages
never shift the rows not yet read, so paging through returns every row that existed when
paging began exactly once (a row arriving meanwhile shows up on a later page if it sorts
after the cursor, and not at all if it sorts before it).

A cursor names its order: `k2:<FIELD>:<DIRECTION>:<value>:<id>` in base64url (a
timestamp as microseconds since the Unix epoch, UTC); the default
order keeps the `k1` cursors of `resolvers.pagination` (timestamp in microseconds and id),
so cursors issued before other orders existed still work. A cursor sent with another
`orderBy` than the one it came from is refused (BAD_USER_INPUT naming `after`): its value
would be a position in another order.

Each order has an index leading with the organization (migration 0018), so the first page
and every later page are one index range scan.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from models.database import Params, to_utc
from resolvers.errors import BadInputError
from resolvers.pagination import KeysetCursor, decode_cursor, encode_cursor
from resolvers.usage import SortDirection

_CURSOR_VERSION = "k2"
# latency_ms is an INTEGER column: a larger cursor value would overflow its parameter.
_MAX_INTEGER = 2**31 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Sort values are BIGINT columns (latency an INTEGER): a larger value would overflow the
# database parameter.
_MAX_VALUE = 2**63 - 1
_MAX_ID = 2**63 - 1
_INTEGER = re.compile(r"-?[0-9]{1,19}")
_ROW_ID = re.compile(r"[0-9]{1,19}")


class LogOrderField(Enum):
    """What request logs are sorted by (then by id, in the same direction)."""

    TIMESTAMP = "TIMESTAMP"
    CUSTOMER_COST = "CUSTOMER_COST"
    LATENCY = "LATENCY"
    TOTAL_TOKENS = "TOTAL_TOKENS"

    @property
    def column(self) -> str:
        """The request_log column holding the sort value."""
        return _COLUMNS[self]


_COLUMNS = {
    LogOrderField.TIMESTAMP: "timestamp",
    LogOrderField.CUSTOMER_COST: "customer_cost_nanos",
    LogOrderField.LATENCY: "latency_ms",
    LogOrderField.TOTAL_TOKENS: "total_tokens",
}


@dataclass(frozen=True, slots=True)
class LogOrder:
    """A sort column and direction; the default is newest first."""

    field: LogOrderField = LogOrderField.TIMESTAMP
    direction: SortDirection = SortDirection.DESC

    @property
    def is_default(self) -> bool:
        return self == NEWEST_FIRST

    @property
    def descending(self) -> bool:
        return self.direction is SortDirection.DESC

    def order_by(self, alias: str = "") -> str:
        """The ORDER BY list (without the keywords), columns qualified by `alias`."""
        prefix = f"{alias}." if alias else ""
        way = "DESC" if self.descending else "ASC"
        return f"{prefix}{self.field.column} {way}, {prefix}id {way}"

    def after(self, position: LogPosition, params: Params) -> str:
        """SQL condition for rows strictly after `position` in this order.

        Written as a bound on the sort column standing on its own plus the tie-break, not
        as a row-value comparison: SQLite only uses an index leading with (organization_id,
        column, id) for the range when the column's bound stands alone."""
        column = self.field.column
        bound, strict, tie = ("<=", "<", "<") if self.descending else (">=", ">", ">")
        value = position.value
        first, again, row_id = params.add(value), params.add(value), params.add(position.id)
        return f"{column} {bound} {first} AND ({column} {strict} {again} OR id {tie} {row_id})"

    def before(self, position: LogPosition, params: Params) -> str:
        """SQL condition for rows strictly before `position` in this order."""
        return self.reversed().after(position, params)

    def reversed(self) -> LogOrder:
        """The same column, the other direction (a backward page scans in it)."""
        way = SortDirection.ASC if self.descending else SortDirection.DESC
        return LogOrder(self.field, way)

    def encode(self, position: LogPosition) -> str:
        """The opaque cursor for a row's position in this order."""
        if self.is_default:
            assert isinstance(position.value, datetime)
            return encode_cursor(KeysetCursor(position.value, position.id))
        value = position.value
        if isinstance(value, datetime):
            value = (to_utc(value) - _EPOCH) // timedelta(microseconds=1)
        text = f"{_CURSOR_VERSION}:{self.field.value}:{self.direction.value}:{value}:{position.id}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    def decode(self, value: str, argument: str = "after") -> LogPosition:
        """The position a cursor of this order names; BadInputError naming `argument` when
        it is not one of ours or comes from another order."""
        text = _cursor_text(value)
        if text is None:
            raise _invalid(argument)
        parts = text.split(":")
        if parts[0] != _CURSOR_VERSION:
            if self.is_default:
                cursor = decode_cursor(value, argument)
                return LogPosition(cursor.timestamp, cursor.id)
            if parts[0] == "k1":
                raise _other_order(argument, self, "TIMESTAMP DESC")
            raise _invalid(argument)
        if len(parts) != 5:
            raise _invalid(argument)
        _, field, direction, value_text, id_text = parts
        if field not in LogOrderField.__members__ or direction not in SortDirection.__members__:
            raise _invalid(argument)
        if (field, direction) != (self.field.value, self.direction.value):
            raise _other_order(argument, self, f"{field} {direction}")
        if not _INTEGER.fullmatch(value_text) or not _ROW_ID.fullmatch(id_text):
            raise _invalid(argument)
        sort_value, row_id = int(value_text), int(id_text)
        largest = _MAX_INTEGER if self.field is LogOrderField.LATENCY else _MAX_VALUE
        if abs(sort_value) > largest or not 1 <= row_id <= _MAX_ID:
            raise _invalid(argument)
        if self.field is not LogOrderField.TIMESTAMP:
            return LogPosition(sort_value, row_id)
        try:
            return LogPosition(_EPOCH + timedelta(microseconds=sort_value), row_id)
        except OverflowError:
            raise _invalid(argument) from None


NEWEST_FIRST = LogOrder()


@dataclass(frozen=True, slots=True)
class LogPosition:
    """A row's place in an order: its sort value (an aware UTC datetime for TIMESTAMP, an
    int otherwise: nano-USD, ms or tokens) and its id."""

    value: datetime | int
    id: int


def _cursor_text(value: str) -> str | None:
    try:
        return base64.urlsafe_b64decode((value + "=" * (-len(value) % 4)).encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        return None


def _invalid(argument: str) -> BadInputError:
    return BadInputError(f"{argument}: not a valid cursor (use a cursor from a previous page)")


def _other_order(argument: str, order: LogOrder, cursor_order: str) -> BadInputError:
    return BadInputError(
        f"{argument}: this cursor belongs to orderBy {cursor_order}; with orderBy "
        f"{order.field.value} {order.direction.value} use a cursor from a page of that order"
    )
