"""Checking usage rules: DAILY_SPEND, UNUSUAL_ACTIVITY and ERROR_RATE.

The alert worker checks each enabled rule once per poll interval (not at ingest: a check
reads rollups over several windows, which would lengthen every ingest transaction for the
organizations that have rules, and a minute's delay is fine for these alerts). Each check is
one `read_usage` statement over the rule's windows (`alerts.baseline`), served by the
QUARTER/HOUR/DAY rollups with raw rows only for sub-quarter edges.

Once: a DAILY_SPEND event's period key is the rule and the local date, so the event's unique
key fires it once per day. UNUSUAL_ACTIVITY and ERROR_RATE fire when an episode starts (the
condition holds and no episode is running) and stay quiet until a check finds the condition
no longer holds, which ends the episode (`alerts.rule_state`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from alerts.baseline import (
    ERROR_BASELINE,
    HISTORY_WEEKS,
    days_to_check,
    factor_reached,
    same_time_past_weeks,
    share_at_least_double,
    share_reached,
    span_before,
    trailing_window,
)
from alerts.events import AlertDraft, insert_alerts
from alerts.payload import iso_utc
from alerts.rule_state import DueRule, claim_due_rules, end_episode, start_episode
from models.alert import AlertKind
from models.database import Params, current_dialect, fetch_all, parse_db_datetime
from pricing.money import format_usd, round_half_even_div
from resolvers.periods import TimeRange
from resolvers.rollup_reader import read_usage
from resolvers.scope import LogFilter, Scope, organizations_condition
from resolvers.time_slices import decompose
from resolvers.usage_measures import UsageMeasures

__all__ = ["RuleReport", "Subject", "Verdict", "check_rule", "evaluate_due_rules"]

log = logging.getLogger("aize.alerts")


@dataclass(frozen=True, slots=True)
class Subject:
    """What a rule watches: the organization, or one of its keys (`api_key_id`)."""

    organization_id: int
    timezone: ZoneInfo
    # When the organization (or key) was created: no baseline week starts before it.
    history_start: datetime
    api_key_id: int | None
    name: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """A check's result: the events to fire; for episode rules whether the condition holds
    (its one draft fires only if that starts an episode)."""

    drafts: tuple[AlertDraft, ...]
    episodic: bool
    holds: bool


@dataclass(slots=True)
class RuleReport:
    checked: int = 0
    fired: int = 0


async def evaluate_due_rules(now: datetime, interval: timedelta) -> RuleReport:
    """Check every rule due at `now` (aware) and fire what they find; a rule that fails is
    logged and skipped, the others still run."""
    report = RuleReport()
    rules = await claim_due_rules(now, interval)
    if not rules:
        return report
    subjects = await _subjects(rules)
    for rule in rules:
        subject = subjects.get(rule.id)
        if subject is None:
            continue
        try:
            verdict = await check_rule(rule, subject, now)
            report.fired += await _apply(rule, verdict, now)
        except Exception:  # one broken rule must not stop the others
            log.exception("checking alert rule %s failed", rule.id)
            continue
        report.checked += 1
    return report


async def check_rule(rule: DueRule, subject: Subject, now: datetime) -> Verdict:
    """Read the rule's windows and decide (reads only; nothing is written)."""
    if rule.kind is AlertKind.DAILY_SPEND:
        return await _daily_spend(rule, subject, now)
    if rule.kind is AlertKind.UNUSUAL_ACTIVITY:
        return await _unusual_activity(rule, subject, now)
    if rule.kind is AlertKind.ERROR_RATE:
        return await _error_rate(rule, subject, now)
    return Verdict((), episodic=False, holds=False)


async def _apply(rule: DueRule, verdict: Verdict, now: datetime) -> int:
    if not verdict.episodic:
        if not verdict.drafts:
            return 0
        async with in_transaction() as conn:
            return await insert_alerts(conn, verdict.drafts)
    if not verdict.holds:
        if rule.episode_started_at is not None:
            await end_episode(rule.id)
        return 0
    if rule.episode_started_at is not None:
        return 0
    async with in_transaction() as conn:
        if not await start_episode(conn, rule.id, now):
            return 0
        return await insert_alerts(conn, verdict.drafts)


async def _read(subject: Subject, windows: list[TimeRange]) -> list[UsageMeasures]:
    scope = Scope(subject.organization_id, member_id=None, viewer_member_id=None, sees_team=True)
    hull = TimeRange(min(w.start for w in windows), max(w.end for w in windows))
    log_filter = LogFilter(
        time_range=hull,
        timezone=subject.timezone,
        api_key_ids=None if subject.api_key_id is None else (subject.api_key_id,),
    )
    results = await read_usage(scope, log_filter, [decompose(w, signed=True) for w in windows])
    measured = []
    for groups in results:
        total = UsageMeasures()
        for measures in groups.values():
            total.add(measures)
        measured.append(total)
    return measured


async def _daily_spend(rule: DueRule, subject: Subject, now: datetime) -> Verdict:
    threshold = rule.threshold_nanos
    if threshold is None or threshold <= 0:
        return Verdict((), episodic=False, holds=False)
    days = days_to_check(now, subject.timezone, rule.created_at)
    measured = await _read(subject, [time_range for _, time_range in days])
    drafts = tuple(
        _draft(
            rule,
            subject,
            now,
            threshold=format_usd(threshold),
            period=day.isoformat(),
            value_nanos=usage.customer_cost_nanos,
            message=_daily_message(subject, day, usage.customer_cost_nanos, threshold),
        )
        for (day, _), usage in zip(days, measured, strict=True)
        if usage.customer_cost_nanos >= threshold
    )
    return Verdict(drafts, episodic=False, holds=bool(drafts))


async def _unusual_activity(rule: DueRule, subject: Subject, now: datetime) -> Verdict:
    factor_bps = rule.threshold_bps
    window = trailing_window(now, rule.window_minutes)
    past = same_time_past_weeks(window, subject.timezone, subject.history_start, HISTORY_WEEKS)
    if factor_bps is None or not past:
        # No week of history to compare with yet: nothing is unusual.
        return Verdict((), episodic=True, holds=False)
    current, *history = await _read(subject, [window, *past])
    weeks = len(history)
    base_requests = sum(h.requests for h in history)
    base_spend = sum(h.customer_cost_nanos for h in history)
    holds = current.requests >= rule.min_requests and (
        factor_reached(current.requests, base_requests, weeks, factor_bps)
        or factor_reached(current.customer_cost_nanos, base_spend, weeks, factor_bps)
    )
    if not holds:
        return Verdict((), episodic=True, holds=False)
    factor = _decimal_text(factor_bps, 4)
    message = (
        f"Unusual activity for {subject.name}: {current.requests} requests and "
        f"${format_usd(current.customer_cost_nanos)} in the last {rule.window_minutes} minutes, "
        f"against a usual {_decimal_text(round_half_even_div(base_requests * 100, weeks), 2)} "
        f"requests and ${format_usd(round_half_even_div(base_spend, weeks))} at this time of "
        f"week (mean of the last {weeks} weeks); the rule fires at {factor}x."
    )
    draft = _draft(
        rule,
        subject,
        now,
        threshold=f"{factor}x",
        period=iso_utc(now.replace(microsecond=0)),
        value_nanos=current.customer_cost_nanos,
        message=message,
    )
    return Verdict((draft,), episodic=True, holds=True)


async def _error_rate(rule: DueRule, subject: Subject, now: datetime) -> Verdict:
    threshold_bps = rule.threshold_bps
    window = trailing_window(now, rule.window_minutes)
    if threshold_bps is None:
        return Verdict((), episodic=True, holds=False)
    current, baseline = await _read(subject, [window, span_before(window, ERROR_BASELINE)])
    errors = current.client_errors + current.server_errors
    base_errors = baseline.client_errors + baseline.server_errors
    holds = (
        current.requests >= rule.min_requests
        and share_reached(errors, current.requests, threshold_bps)
        and share_at_least_double(errors, current.requests, base_errors, baseline.requests)
    )
    if not holds:
        return Verdict((), episodic=True, holds=False)
    share = _decimal_text(round_half_even_div(errors * 10_000, current.requests), 2)
    base_share = (
        _decimal_text(round_half_even_div(base_errors * 10_000, baseline.requests), 2)
        if baseline.requests
        else "0"
    )
    threshold = _decimal_text(threshold_bps, 2)
    message = (
        f"Error-rate spike for {subject.name}: {share}% of {current.requests} requests "
        f"({errors}) answered 4xx or 5xx in the last {rule.window_minutes} minutes, at or over "
        f"the {threshold}% threshold and at least twice the {base_share}% of the 24 hours "
        "before."
    )
    draft = _draft(
        rule,
        subject,
        now,
        threshold=threshold,
        period=iso_utc(now.replace(microsecond=0)),
        value_nanos=None,
        message=message,
    )
    return Verdict((draft,), episodic=True, holds=True)


def _draft(
    rule: DueRule,
    subject: Subject,
    now: datetime,
    *,
    threshold: str,
    period: str,
    value_nanos: int | None,
    message: str,
) -> AlertDraft:
    return AlertDraft(
        organization_id=rule.organization_id,
        kind=rule.kind,
        subject_api_key_id=subject.api_key_id or 0,
        threshold=threshold,
        # The rule is part of the key: two rules never share (or swallow) each other's events.
        period_key=f"rule-{rule.id}/{period}",
        value_nanos=value_nanos,
        message=message[:1000],
        fired_at=now,
        rule_id=rule.id,
    )


def _daily_message(subject: Subject, day: date, spend_nanos: int, threshold_nanos: int) -> str:
    who = subject.name[0].upper() + subject.name[1:]
    return (
        f"{who} spent ${format_usd(spend_nanos)} on {day.isoformat()} ({subject.timezone.key}), "
        f"reaching the daily threshold of ${format_usd(threshold_nanos)}."
    )


def _decimal_text(scaled: int, places: int) -> str:
    """`scaled` / 10**places without trailing zeros: (30000, 4) -> "3", (1250, 2) -> "12.5"."""
    whole, fraction = divmod(scaled, 10**places)
    digits = f"{fraction:0{places}d}".rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


async def _subjects(rules: list[DueRule]) -> dict[int, Subject]:
    params = Params(current_dialect())
    org_ids = sorted({r.organization_id for r in rules})
    orgs = {
        int(row["id"]): row
        for row in await fetch_all(
            "SELECT id, timezone, created_at FROM organization "
            f"WHERE id IN ({params.add_list(org_ids)})",
            params,
        )
    }
    key_ids = sorted({r.api_key_id for r in rules if r.api_key_id is not None})
    keys: dict[int, dict[str, object]] = {}
    if key_ids:
        params = Params(current_dialect())
        keys = {
            int(row["id"]): row
            for row in await fetch_all(
                # The organizations too: sharded by organization (docs/SCALING.md), only
                # their shards are asked.
                "SELECT id, label, created_at FROM api_key "
                f"WHERE {organizations_condition(org_ids, params)} "
                f"AND id IN ({params.add_list(key_ids)})",
                params,
            )
        }
    subjects = {}
    for rule in rules:
        org = orgs.get(rule.organization_id)
        key = keys.get(rule.api_key_id) if rule.api_key_id is not None else None
        if org is None or (rule.api_key_id is not None and key is None):
            continue
        subjects[rule.id] = Subject(
            organization_id=rule.organization_id,
            timezone=ZoneInfo(str(org["timezone"])),
            history_start=parse_db_datetime((key or org)["created_at"]),
            api_key_id=rule.api_key_id,
            name="the organization" if key is None else f"API key '{key['label']}'",
        )
    return subjects
