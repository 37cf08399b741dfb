"""One request log as a database row: the column list and the values, in the same order.

The columns are models/request_log_columns.py's LOG_ROW. `log_row` is on ingest's hot path,
so it is compiled from that list once, at import, into one function that builds the tuple
with one attribute read per column (as the `dataclasses` module compiles `__init__`): a
generic loop or `operator.attrgetter` plus the JSON columns spliced in costs half as much
again per record as the literal tuple.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson

from models.priced_record import PricedRecord
from models.request_log_columns import ROW_NAMES

# request_log's columns as ingest writes them (every one but `id` and `ingested_at`), in the
# order of log_row's values; COPY and the INSERTs list them so.
LOG_COLUMNS = ROW_NAMES

# The columns whose value is not the PricedRecord attribute of the column's name, as
# expressions of `record`: metadata as JSON text with sorted keys, tags as a JSON array or
# NULL (jsonb on PostgreSQL, JSON text on SQLite).
_COMPUTED = {
    "total_tokens": "record.input_tokens + record.output_tokens",
    "metadata": (
        "None if (metadata := record.metadata) is None "
        "else dumps(metadata, option=OPT_SORT_KEYS).decode()"
    ),
    "tags": "dumps(list(record.tags)).decode() if record.tags else None",
}

__all__ = ["LOG_COLUMNS", "log_row"]


def _compile_log_row() -> Callable[[PricedRecord], tuple[object, ...]]:
    cells = "".join(f"        {_COMPUTED.get(name, f'record.{name}')},\n" for name in LOG_COLUMNS)
    source = f"def log_row(record):\n    return (\n{cells}    )\n"
    namespace: dict[str, object] = {"dumps": orjson.dumps, "OPT_SORT_KEYS": orjson.OPT_SORT_KEYS}
    exec(compile(source, "<ingestion.log_row>", "exec"), namespace)
    function: Callable[[PricedRecord], tuple[object, ...]] = namespace["log_row"]  # type: ignore[assignment]
    function.__doc__ = "The record's values for LOG_COLUMNS, in that order."
    return function


log_row = _compile_log_row()
