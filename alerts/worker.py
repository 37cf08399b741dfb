"""The alert worker: every AIZE_ALERT_POLL_SECONDS, check the usage rules that are due and
send the deliveries that are due. Runs as an asyncio task in each `serve` process
(AIZE_ALERT_WORKER); replicas share the work through row claims, never doing a rule or a
delivery twice. `run_once` is one such turn, for `aize-analytics alerts run-once` (cron) and
for tests, which pass the clock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from alerts.delivery import DeliveryReport, deliver_due
from alerts.rules import RuleReport, evaluate_due_rules
from coordination.leadership import Leadership
from settings import Settings

__all__ = ["AlertWorker", "RunReport", "run_once"]

log = logging.getLogger("aize.alerts")


@dataclass(frozen=True, slots=True)
class RunReport:
    rules: RuleReport
    deliveries: DeliveryReport

    def summary(self) -> str:
        d = self.deliveries
        return (
            f"checked {self.rules.checked} rules, fired {self.rules.fired} alerts; "
            f"delivered {d.delivered}, retrying {d.retrying}, failed {d.failed}"
        )


def utc_now() -> datetime:
    return datetime.now(UTC)


async def run_once(
    settings: Settings, now: datetime | None = None, *, client: httpx.AsyncClient | None = None
) -> RunReport:
    """One turn at `now` (default: the current time): check due rules, then send due
    deliveries (including those the checks just fired)."""
    at = now or utc_now()
    rules = await evaluate_due_rules(at, timedelta(seconds=settings.alert_poll_seconds))
    deliveries = await deliver_due(settings, at, client=client)
    return RunReport(rules, deliveries)


class AlertWorker:
    """The background loop; `start` inside a running event loop, `stop` on shutdown."""

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], datetime] = utc_now,
        leadership: Leadership | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        # With several processes only the leader takes turns (coordination/leadership.py).
        self.leadership = leadership
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="aize-alert-worker")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _loop(self) -> None:
        async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as client:
            while True:
                if self.leadership is not None:
                    await self.leadership.wait_until_leader()
                try:
                    report = await run_once(self.settings, self.clock(), client=client)
                    if report.rules.fired or report.deliveries.failed:
                        log.info("alert worker: %s", report.summary())
                except Exception:  # a bad turn (database away) must not end the loop
                    log.exception("alert worker turn failed")
                await asyncio.sleep(self.settings.alert_poll_seconds)
