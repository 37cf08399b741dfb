"""The rollup folder's lag (ingestion/folding.py), read from the database when /metrics is
scraped: the same figure whichever worker or instance answers, and whichever folds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from resolvers.rollup_lag import FoldLag


class FoldLagCollector(Collector):
    """Pending rows and the age of the oldest, as gauges."""

    def __init__(self, lag: FoldLag, now: datetime | None = None) -> None:
        self.lag = lag
        self.now = now or datetime.now(UTC)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "aize_rollup_fold_pending_rows",
            "Raw rows committed whose rollups are not folded yet (read answers add them).",
            value=self.lag.pending_rows,
        )
        yield GaugeMetricFamily(
            "aize_rollup_fold_oldest_pending_seconds",
            "How long the oldest pending row has waited for the folder, in seconds (0: none).",
            value=self.lag.oldest_age_seconds(self.now),
        )
