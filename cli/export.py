"""`aize-analytics export request-logs|usage-trend|usage-breakdown`: the HTTP exports, run
by an operator against the database for one organization (the Admin view of it).

Filters are the endpoint's, as options (`--models gpt-4 --models gpt-4o`, or comma
separated), resolved by the same code; request logs stream to the file chunk by chunk.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from cli.commands import CommandError, find_org
from exports.formats import ExportFormat, Row, RowEncoder
from exports.request_logs import request_log_export
from graph.errors import BadUserInputError
from graph.inputs.filters import to_log_filter
from resolvers.errors import BadInputError, ForbiddenError
from resolvers.log_search import parse_search
from resolvers.scope import Scope
from web.export_filter import FILTER_FIELDS, usage_filter
from web.export_params import (
    BREAKDOWN_PARAMETERS,
    LOG_PARAMETERS,
    TREND_PARAMETERS,
    ExportParams,
    breakdown_export_for,
    trend_export_for,
)

# (option, parameter, repeatable): the filter options every export takes, one per
# UsageFilter field as in the HTTP exports (`--tags-any`, `--min-latency-ms`...), except
# onlyMine (an operator exports as the Admin view, not as one member).
_FILTER_OPTIONS = tuple(
    ("--" + re.sub(r"(?<!^)(?=[A-Z])", "-", parameter.name).lower(), parameter.name, parameter.many)
    for parameter in FILTER_FIELDS
    if parameter.name != "onlyMine"
)
_LIMIT_OPTION = ("--limit", "limit", False)
_TREND_OPTIONS = (
    ("--granularity", "granularity", False),
    ("--split-by", "splitBy", False),
    _LIMIT_OPTION,
)
_BREAKDOWN_OPTIONS = (
    ("--by", "by", True),
    ("--order-by", "orderBy", False),
    ("--direction", "direction", False),
    _LIMIT_OPTION,
)
_LOG_OPTIONS = (("--search", "search", False),)
_ALL_OPTIONS = tuple(
    dict.fromkeys(_FILTER_OPTIONS + _LOG_OPTIONS + _TREND_OPTIONS + _BREAKDOWN_OPTIONS)
)


def add_export_parser(sub: Any) -> None:
    """Register `export` and its three subjects on the CLI's subparsers."""
    export = sub.add_parser("export", help="export request logs or usage as CSV / JSON lines")
    subjects = export.add_subparsers(dest="export_subject", required=True)
    subject_options: tuple[tuple[str, str, tuple[tuple[str, str, bool], ...]], ...] = (
        ("request-logs", "every matching request log, newest first", _LOG_OPTIONS),
        ("usage-trend", "usage per time bucket (zero-filled)", _TREND_OPTIONS),
        ("usage-breakdown", "usage per group (--by MODEL, API_KEY...)", _BREAKDOWN_OPTIONS),
    )
    for subject, help_text, extra in subject_options:
        parser = subjects.add_parser(subject, help=help_text)
        parser.add_argument("--org", required=True, help="organization slug or id")
        parser.add_argument("--format", default="csv", choices=["csv", "jsonl"])
        parser.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")
        parser.add_argument("--bom", action="store_true", help="start a CSV with a UTF-8 BOM")
        for option, parameter, repeatable in _FILTER_OPTIONS + extra:
            parser.add_argument(
                option,
                dest=parameter,
                action="append" if repeatable else "store",
                help="repeatable; or comma separated" if repeatable else None,
            )


def _pairs(args: argparse.Namespace) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for _, parameter, _ in _ALL_OPTIONS:
        value = getattr(args, parameter, None)
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((parameter, item))
    return pairs


async def export_command(args: argparse.Namespace) -> str | None:
    """Write the export; returns a one-line summary when writing to a file."""
    org = await find_org(args.org)
    scope = Scope.for_organization(org.id)
    export_format = ExportFormat(args.format)
    accepted = LOG_PARAMETERS | TREND_PARAMETERS | BREAKDOWN_PARAMETERS
    try:
        params = ExportParams(_pairs(args), accepted)
        log_filter = to_log_filter(usage_filter(params), org)
        if args.export_subject == "request-logs":
            search = parse_search(params.text("search"))
            logs = await request_log_export(
                scope, log_filter, search=search, include_bodies=org.log_bodies
            )
            encoder = RowEncoder(logs.columns, export_format, bom=args.bom)
            with _output(args.output) as out:
                rows = await _write_chunks(out, encoder, logs.chunks)
        else:
            if args.export_subject == "usage-trend":
                usage = await trend_export_for(scope, log_filter, params)
            else:
                usage = await breakdown_export_for(scope, log_filter, params)
            encoder = RowEncoder(usage.columns, export_format, bom=args.bom)
            with _output(args.output) as out:
                out.write(encoder.header() + encoder.encode(usage.rows))
            rows = len(usage.rows)
    except BadUserInputError as exc:
        raise CommandError(exc.message) from None
    except (BadInputError, ForbiddenError) as exc:
        raise CommandError(str(exc)) from None
    return None if args.output == "-" else f"wrote {rows} rows to {args.output}"


async def _write_chunks(
    out: BinaryIO, encoder: RowEncoder, chunks: AsyncIterator[list[Row]]
) -> int:
    out.write(encoder.header())
    written = 0
    async for rows in chunks:
        out.write(encoder.encode(rows))
        written += len(rows)
    return written


@contextmanager
def _output(path: str) -> Iterator[BinaryIO]:
    if path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    try:
        handle = open(path, "wb")  # noqa: SIM115 - closed below, after the rows are written
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None
    with handle:
        yield handle
