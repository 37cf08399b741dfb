"""The one pagination helper: keyset cursors over newest-first lists, and `first` limits.

Every paginated list (request logs, the wallet ledger) is ordered by (timestamp DESC,
id DESC) and paged with keyset cursors, never OFFSET: a cursor is the opaque position
(timestamp, id) of the last row a client saw, and the next page is "rows strictly older".
That stays fast on page 1,000 and never skips or repeats a row when new rows arrive.
Backward pages (`last`/`before`, the request logs) are the same keyset read the other way:
rows strictly newer than the cursor, nearest first, handed back newest first.
The wallet ledger compares only the cursor's id: its ids follow the order its balance
changed in (resolvers/wallet.py).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from models.database import Params, to_utc
from resolvers.errors import BadInputError

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
# Rows a plain list field (Organization.apiKeys, members) returns: its `limit`'s default and
# maximum. A bound the query cost can count before running, as for pages.
DEFAULT_LISTED_ROWS = 100
MAX_LISTED_ROWS = 1_000

_CURSOR_VERSION = "k1"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Primary keys are BIGINT: a larger id in a cursor would overflow the database parameter.
_MAX_ID = 2**63 - 1
# ASCII digits only: str.isdigit() would also pass characters such as "²" that int() refuses.
_MICROS = re.compile(r"-?[0-9]{1,18}")
_ROW_ID = re.compile(r"[0-9]{1,19}")

RowT = TypeVar("RowT")


@dataclass(frozen=True, slots=True)
class KeysetCursor:
    """A row's position in a newest-first list: its timestamp (aware UTC) and id."""

    timestamp: datetime
    id: int


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A validated page request: how many rows, and after which position (None = newest);
    or, paging backwards, how many rows just before (newer than) `before` (None = the
    oldest rows)."""

    size: int
    after: KeysetCursor | None
    backward: bool = False
    before: KeysetCursor | None = None

    @classmethod
    def parse(
        cls,
        first: int | None,
        after: str | None,
        *,
        default: int = DEFAULT_PAGE_SIZE,
        maximum: int = MAX_PAGE_SIZE,
    ) -> PageRequest:
        """Validate the client's `first` and `after`; raises BadInputError naming the argument.

        `first` None means the default page size; `after` None or "" means the first page.
        """
        size = default if first is None else first
        if not 1 <= size <= maximum:
            raise BadInputError(f"first: must be between 1 and {maximum}, got {size}")
        return cls(size=size, after=decode_cursor(after) if after else None)

    @classmethod
    def parse_either_way(
        cls,
        first: int | None,
        after: str | None,
        last: int | None,
        before: str | None,
        *,
        default: int = DEFAULT_PAGE_SIZE,
        maximum: int = MAX_PAGE_SIZE,
    ) -> PageRequest:
        """A forward page (`first`/`after`, as `parse`) or a backward one (`last`/`before`:
        the `last` rows just newer than `before`, or the oldest `last` rows without it).
        Mixing the two directions raises BadInputError naming the arguments."""
        if last is None and not before:
            return cls.parse(first, after, default=default, maximum=maximum)
        if first is not None or after:
            raise BadInputError(
                "first/after page forwards and last/before backwards: give one pair, not both"
            )
        size = default if last is None else last
        if not 1 <= size <= maximum:
            raise BadInputError(f"last: must be between 1 and {maximum}, got {size}")
        cursor = decode_cursor(before, "before") if before else None
        return cls(size=size, after=None, backward=True, before=cursor)


@dataclass(frozen=True, slots=True)
class Page(Generic[RowT]):
    """One page of rows, newest first, with each row's cursor."""

    rows: list[RowT]
    cursors: list[str]
    has_next_page: bool
    # True when the page was requested with a cursor (there is at least the row it names).
    has_previous_page: bool

    @property
    def start_cursor(self) -> str | None:
        return self.cursors[0] if self.cursors else None

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


def encode_cursor(cursor: KeysetCursor) -> str:
    """The opaque cursor string (base64url, no padding) for a row's position."""
    micros = (to_utc(cursor.timestamp) - _EPOCH) // timedelta(microseconds=1)
    text = f"{_CURSOR_VERSION}:{micros}:{cursor.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(value: str, argument: str = "after") -> KeysetCursor:
    """The position a cursor names; raises BadInputError naming `argument` if it is not one
    of ours (a client must only send back cursors it was given)."""
    invalid = BadInputError(f"{argument}: not a valid cursor (use a cursor from a previous page)")
    try:
        text = base64.urlsafe_b64decode((value + "=" * (-len(value) % 4)).encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise invalid from None
    parts = text.split(":")
    if len(parts) != 3 or parts[0] != _CURSOR_VERSION:
        raise invalid
    _, micros_text, id_text = parts
    if not _MICROS.fullmatch(micros_text) or not _ROW_ID.fullmatch(id_text):
        raise invalid
    row_id = int(id_text)
    if not 1 <= row_id <= _MAX_ID:
        raise invalid
    try:
        timestamp = _EPOCH + timedelta(microseconds=int(micros_text))
    except OverflowError:
        raise invalid from None
    return KeysetCursor(timestamp=timestamp, id=row_id)


def keyset_older_than(
    cursor: KeysetCursor,
    params: Params,
    *,
    time_column: str = "timestamp",
    id_column: str = "id",
) -> str:
    """SQL condition for rows strictly after `cursor` in (time DESC, id DESC) order.

    Written as an explicit upper bound on the time column plus the tie-break, rather than a
    row-value comparison: SQLite only uses an index leading with (organization_id, time, id)
    for the range when the bound on the time column stands on its own.
    """
    at = params.add(cursor.timestamp)
    at_again = params.add(cursor.timestamp)
    row_id = params.add(cursor.id)
    return f"{time_column} <= {at} AND ({time_column} < {at_again} OR {id_column} < {row_id})"


def keyset_newer_than(
    cursor: KeysetCursor,
    params: Params,
    *,
    time_column: str = "timestamp",
    id_column: str = "id",
) -> str:
    """SQL condition for rows strictly before `cursor` in (time DESC, id DESC) order: the
    rows a backward page reads (written like keyset_older_than, for the same index use)."""
    at = params.add(cursor.timestamp)
    at_again = params.add(cursor.timestamp)
    row_id = params.add(cursor.id)
    return f"{time_column} >= {at} AND ({time_column} > {at_again} OR {id_column} > {row_id})"


def build_page(
    rows: Sequence[RowT],
    request: PageRequest,
    position: Callable[[RowT], KeysetCursor],
) -> Page[RowT]:
    """The page from up to `request.size + 1` fetched rows (the extra row only tells that
    another page exists and is dropped).

    A backward request's rows come oldest first (nearest the `before` cursor first); the
    page holds them newest first like any other, with the extra row telling that newer
    rows exist (hasPreviousPage) and `before` that older ones do (hasNextPage)."""
    kept = list(rows[: request.size])
    if request.backward:
        kept.reverse()
    more = len(rows) > request.size
    return Page(
        rows=kept,
        cursors=[encode_cursor(position(row)) for row in kept],
        has_next_page=request.before is not None if request.backward else more,
        has_previous_page=more if request.backward else request.after is not None,
    )
