"""CSV that opens safely in a spreadsheet: RFC 4180 quoting and no formula injection.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and, in some, one that
starts with a tab or a carriage return) as a formula, so a crafted error message or key
label could compute, link out or exfiltrate. Following OWASP's CSV injection guidance, every
cell of user-supplied text that starts with one of those characters gets a leading single
quote, which spreadsheets show as text. Cells we produce ourselves (numbers, money, ISO
timestamps, booleans) are never touched, so "-2.50" stays a number.

Quoting is the csv module's (RFC 4180: fields with a comma, quote or line break are quoted,
quotes doubled); lines end with CRLF.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

# OWASP: =, +, -, @, tab (0x09) and carriage return (0x0D).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE_PREFIX = "'"


def neutralize(text: str) -> str:
    """`text` with a leading single quote when a spreadsheet would read it as a formula
    (it starts with =, +, -, @, tab or CR); otherwise unchanged."""
    return QUOTE_PREFIX + text if text.startswith(FORMULA_TRIGGERS) else text


class CsvLines:
    """Encodes rows of already-rendered cells (str) into CSV text, reusing one buffer."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def encode(self, rows: Iterable[Sequence[str]]) -> str:
        """The CSV text of `rows` (each a line ending in CRLF); cells are written as given,
        so callers neutralize user text first."""
        self._writer.writerows(rows)
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text
