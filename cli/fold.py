"""`aize-analytics fold`: fold the rollups of deferred ingest (ingestion/folding.py) by hand,
for cron, after the service was stopped a long while, or before inspecting rollup tables.
`serve` runs the same folder on the leader of the background work."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from ingestion.folding import drain, fold_batch
from resolvers.rollup_lag import fold_lag
from settings import Settings


def add_fold_parser(sub: Any) -> None:
    """Register `fold` on the CLI's subparsers."""
    fold = sub.add_parser(
        "fold",
        help="fold pending rollups (deferred ingest): until none is pending, or one batch",
    )
    fold.add_argument(
        "--once", action="store_true", help="fold one batch only (default: drain the backlog)"
    )
    fold.add_argument(
        "--batch-rows",
        type=_positive,
        default=None,
        help="rows per fold transaction (default: AIZE_FOLD_BATCH_ROWS)",
    )
    fold.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="organizations folded at once (default: AIZE_FOLD_WORKERS)",
    )
    fold.add_argument("--status", action="store_true", help="only report the lag; fold nothing")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


async def fold_command(args: argparse.Namespace) -> dict[str, object]:
    """Fold; returns the rows folded and the lag left (printed as JSON)."""
    settings = Settings.from_env()
    batch = args.batch_rows or settings.fold_batch_rows
    workers = args.workers or settings.fold_workers
    folded = 0
    if not args.status:
        folded = await (fold_batch(batch) if args.once else drain(batch, workers))
    lag = await fold_lag()
    return {
        "foldedRows": folded,
        "pendingRows": lag.pending_rows,
        "oldestPendingSeconds": round(lag.oldest_age_seconds(datetime.now(UTC)), 3),
    }
