"""Split a JSON lines body into records: one JSON object per line, blank lines skipped."""

from __future__ import annotations

import orjson

from ingestion.submission import Rejection, Submitted


class TooManyRecords(ValueError):
    """The body holds more records than one request may carry."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"a request may carry at most {limit} records")
        self.limit = limit


def parse_json_lines(body: bytes, max_records: int) -> tuple[list[Submitted], list[Rejection]]:
    """Parsed records and the lines that are not JSON (as rejections with field None).

    Positions count records (non-blank lines) from 0; lines are numbered from 1. Raises
    TooManyRecords as soon as the body is known to exceed `max_records`.
    """
    parsed: list[Submitted] = []
    broken: list[Rejection] = []
    position = 0
    for number, line in enumerate(body.split(b"\n"), 1):
        if not line.strip():
            continue
        if position == max_records:
            raise TooManyRecords(max_records)
        try:
            parsed.append(Submitted(position, number, orjson.loads(line)))
        except orjson.JSONDecodeError as exc:
            broken.append(
                Rejection(position, number, None, f"line {number} is not valid JSON: {exc}")
            )
        position += 1
    return parsed, broken
