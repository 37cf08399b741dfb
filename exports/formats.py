"""Export formats: the columns of an export and their encoding as CSV or JSON lines.

Cells are plain Python values: str, int, bool, None, or a JSON value (metadata). Money and
timestamps arrive already rendered as strings ("0.135", "2024-05-01T12:00:00.000000+00:00",
models/timestamps.py), so
neither format ever sees a float. CSV renders None as an empty cell, booleans as
true/false, JSON values as JSON text, and neutralizes user-supplied text (see
`exports.csv_safety`); JSON lines keep every value's type and nest JSON values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

import orjson

from exports.csv_safety import CsvLines, neutralize

# The SQL type that holds every money column exactly (USD with up to 9 decimals, nano-USD):
# what the docs tell DuckDB, pandas (via decimal.Decimal) and BI tools to read them as. A
# CSV reader's defaults would make them floats.
MONEY_SQL_TYPE = "DECIMAL(38,9)"

# The UTF-8 byte order mark: Excel on Windows reads a CSV as UTF-8 only when it starts so.
UTF8_BOM = "\ufeff"

Row = Sequence[object]


class ColumnKind(Enum):
    # Rendered by us: ids, counts, money strings, ISO timestamps, booleans.
    VALUE = "VALUE"
    # Supplied by users or the gateway (labels, names, models, messages): neutralized in CSV.
    TEXT = "TEXT"
    # A JSON value (metadata): JSON text in CSV (neutralized too), nested in JSON lines.
    JSON = "JSON"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: ColumnKind = ColumnKind.VALUE


def text(name: str) -> Column:
    """A column of user-supplied text."""
    return Column(name, ColumnKind.TEXT)


class ExportFormat(Enum):
    CSV = "csv"
    JSONL = "jsonl"

    @property
    def media_type(self) -> str:
        return "text/csv; charset=utf-8" if self is ExportFormat.CSV else "application/x-ndjson"

    @classmethod
    def parse(cls, value: str) -> ExportFormat:
        """The format named `value` ("csv" or "jsonl"); ValueError naming the choices."""
        try:
            return cls(value.lower())
        except ValueError:
            raise ValueError(f"format: expected csv or jsonl, got {value!r}") from None


class RowEncoder:
    """Turns rows of one export into bytes of its format, chunk by chunk."""

    def __init__(
        self, columns: Sequence[Column], export_format: ExportFormat, *, bom: bool = False
    ) -> None:
        self.columns = tuple(columns)
        self.format = export_format
        self.bom = bom
        self._names = tuple(column.name for column in self.columns)
        self._renderers = tuple(_RENDERERS[column.kind] for column in self.columns)
        self._csv = CsvLines()

    def header(self) -> bytes:
        """What the file starts with: the CSV header row (after a BOM when asked for);
        nothing for JSON lines."""
        if self.format is ExportFormat.JSONL:
            return b""
        prefix = UTF8_BOM if self.bom else ""
        return (prefix + self._csv.encode([self._names])).encode()

    def encode(self, rows: Iterable[Row]) -> bytes:
        """The bytes of `rows`, one CSV line or one JSON object per row."""
        if self.format is ExportFormat.JSONL:
            return b"".join(
                orjson.dumps(dict(zip(self._names, row, strict=True))) + b"\n" for row in rows
            )
        return self._csv.encode([self._csv_cells(row) for row in rows]).encode()

    def _csv_cells(self, row: Row) -> list[str]:
        return [render(value) for render, value in zip(self._renderers, row, strict=True)]


def _render_value(value: object) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def _render_text(value: object) -> str:
    return "" if value is None else neutralize(str(value))


def _render_json(value: object) -> str:
    if value is None:
        return ""
    return neutralize(orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())


_RENDERERS: dict[ColumnKind, Callable[[object], str]] = {
    ColumnKind.VALUE: _render_value,
    ColumnKind.TEXT: _render_text,
    ColumnKind.JSON: _render_json,
}
