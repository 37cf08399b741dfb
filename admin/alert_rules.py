"""Alert rules: listing, creating, changing and deleting them (Admins and Owners).

A rule of a usage kind (DAILY_SPEND, UNUSUAL_ACTIVITY, ERROR_RATE) is checked by the alert
worker; a rule of a built-in kind (KEY_LIMIT, BUDGET, LOW_BALANCE) only says where those
events are delivered. Inputs are checked here, each refusal naming the GraphQL field.

Webhook secrets: a rule with a webhook always has one. Leave it out and one is generated
(returned once, by the mutation that made it); it is never readable afterwards, only its
last four characters.

Every create, change and delete is recorded in the audit trail in its own transaction
(thresholds as the API shows them; webhooks masked and secrets as their last four
characters only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tortoise.transactions import in_transaction

from alerts.targets import (
    check_email,
    check_secret,
    check_webhook_url,
    generate_secret,
    mask_webhook_url,
    secret_hint,
)
from audit.trail import Actor, record_change
from models.alert import AlertEvent, AlertKind, AlertRule
from pricing.money import format_usd
from resolvers.errors import BadInputError, NotFoundError
from resolvers.scope import Scope

__all__ = [
    "DEFAULT_MIN_REQUESTS",
    "DEFAULT_WINDOW_MINUTES",
    "MAX_RULES_PER_ORGANIZATION",
    "RuleInput",
    "SavedRule",
    "audited_rule",
    "create_alert_rule",
    "delete_alert_rule",
    "get_alert_rule",
    "list_alert_rules",
    "rule_input_of",
    "update_alert_rule",
]

MAX_RULES_PER_ORGANIZATION = 100
DEFAULT_WINDOW_MINUTES = 60
DEFAULT_MIN_REQUESTS = 50
MIN_WINDOW_MINUTES = 5
MAX_WINDOW_MINUTES = 1440
MAX_MIN_REQUESTS = 1_000_000_000
# activityFactor in basis points: more than 1x, at most 100x.
MAX_FACTOR_BPS = 1_000_000
_BPS = 10_000

DELIVERY_ONLY = frozenset(
    {AlertKind.KEY_LIMIT, AlertKind.BUDGET, AlertKind.LOW_BALANCE, AlertKind.LIMIT_REQUEST}
)
# The settings each kind uses, by GraphQL field name.
_USES: dict[AlertKind, frozenset[str]] = {
    AlertKind.DAILY_SPEND: frozenset({"spendThreshold"}),
    AlertKind.UNUSUAL_ACTIVITY: frozenset({"activityFactor", "windowMinutes", "minRequests"}),
    AlertKind.ERROR_RATE: frozenset({"errorRatePercent", "windowMinutes", "minRequests"}),
}


@dataclass(frozen=True, slots=True)
class RuleInput:
    """A rule's settings: money in nano-USD, the factor and the rate in basis points
    (3x = 30000, 5% = 500). `webhook_secret` is a new secret the caller chose, if any."""

    kind: AlertKind
    api_key_id: int | None = None
    spend_threshold_nanos: int | None = None
    activity_factor_bps: int | None = None
    error_rate_bps: int | None = None
    window_minutes: int | None = None
    min_requests: int | None = None
    enabled: bool = True
    webhook_url: str | None = None
    webhook_secret: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class SavedRule:
    """The stored rule, and the webhook secret this change set (None if it set none)."""

    rule: AlertRule
    webhook_secret: str | None


def rule_input_of(rule: AlertRule) -> RuleInput:
    """The rule's current settings as an input (no new secret), to apply changes onto."""
    kind = AlertKind(rule.kind)
    uses = _USES.get(kind, frozenset())
    return RuleInput(
        kind=kind,
        api_key_id=rule.api_key_id,
        spend_threshold_nanos=rule.threshold_nanos if "spendThreshold" in uses else None,
        activity_factor_bps=rule.threshold_bps if "activityFactor" in uses else None,
        error_rate_bps=rule.threshold_bps if "errorRatePercent" in uses else None,
        window_minutes=rule.window_minutes if "windowMinutes" in uses else None,
        min_requests=rule.min_requests if "minRequests" in uses else None,
        enabled=rule.enabled,
        webhook_url=rule.webhook_url,
        email=rule.email,
    )


async def list_alert_rules(scope: Scope) -> list[AlertRule]:
    """The organization's rules, oldest first (Admins/Owners; ForbiddenError otherwise)."""
    scope.require_team("alert rules")
    return await scope.filter(AlertRule).order_by("id")


async def get_alert_rule(scope: Scope, rule_id: int) -> AlertRule:
    """One rule of the organization; NotFoundError for another tenant's or a missing one."""
    scope.require_team("alert rules")
    rule = await scope.filter(AlertRule).get_or_none(id=rule_id)
    if rule is None:
        raise NotFoundError("id: no such alert rule")
    return rule


async def create_alert_rule(scope: Scope, data: RuleInput, *, actor: Actor) -> SavedRule:
    """Check and store a new rule; a webhook without a secret gets a generated one."""
    scope.require_team("alert rules")
    columns = await _columns(scope, data)
    count = await scope.filter(AlertRule).count()
    if count >= MAX_RULES_PER_ORGANIZATION:
        raise BadInputError(
            f"kind: an organization has at most {MAX_RULES_PER_ORGANIZATION} alert rules; "
            "delete one first"
        )
    secret = _secret(data, existing=None, rotate=False)
    async with in_transaction() as conn:
        rule = await AlertRule.create(
            organization_id=scope.organization_id,
            kind=data.kind,
            api_key_id=data.api_key_id,
            webhook_secret=secret,
            using_db=conn,
            **columns,
        )
        after = audited_rule(rule)
        await record_change(
            scope.organization_id,
            actor,
            "alertRule.create",
            "AlertRule",
            rule.id,
            {name: (None, value) for name, value in after.items()},
            connection=conn,
        )
    return SavedRule(rule, secret)


async def update_alert_rule(
    scope: Scope, rule_id: int, data: RuleInput, *, actor: Actor, rotate_secret: bool = False
) -> SavedRule:
    """Replace the rule's settings with `data` (kind and key cannot change). A change to
    what it checks (threshold, window, minimum, enabled) starts it afresh: a running episode
    is forgotten and it is checked at the worker's next turn."""
    rule = await get_alert_rule(scope, rule_id)
    if data.kind is not AlertKind(rule.kind) or data.api_key_id != rule.api_key_id:
        raise BadInputError("id: a rule's kind and API key cannot change; create a new rule")
    columns = await _columns(scope, data)
    secret = _secret(data, existing=rule.webhook_secret, rotate=rotate_secret)
    checked = ("threshold_nanos", "threshold_bps", "window_minutes", "min_requests", "enabled")
    if any(getattr(rule, name) != columns[name] for name in checked):
        columns.update(episode_started_at=None, next_evaluation_at=None)
    async with in_transaction() as conn:
        # By id and organization: one shard in Citus (docs/SCALING.md).
        this_rule = (
            Scope.for_organization(rule.organization_id).filter(AlertRule).filter(id=rule.id)
        )
        await this_rule.using_db(conn).update(webhook_secret=secret, **columns)
        updated = await this_rule.using_db(conn).get()
        before, after = audited_rule(rule), audited_rule(updated)
        await record_change(
            scope.organization_id,
            actor,
            "alertRule.update",
            "AlertRule",
            rule.id,
            {name: (before[name], after[name]) for name in after},
            connection=conn,
        )
    return SavedRule(updated, secret if secret != rule.webhook_secret else None)


async def delete_alert_rule(scope: Scope, rule_id: int, *, actor: Actor) -> None:
    """Delete the rule; its fired events stay (without the rule), and so do their
    deliveries."""
    rule = await get_alert_rule(scope, rule_id)
    async with in_transaction() as conn:
        # The events' reference cleared by this statement, in the organization, before the
        # delete: what the foreign key's SET NULL does on one server, and all a Citus
        # deployment has (it refuses SET NULL on a key holding organization_id, SCALING.md).
        await scope.filter(AlertEvent).filter(rule_id=rule.id).using_db(conn).update(rule_id=None)
        deleted = await scope.filter(AlertRule).filter(id=rule.id).using_db(conn).delete()
        if not deleted:  # another request deleted it first: that one is recorded
            raise NotFoundError("id: no such alert rule")
        await record_change(
            scope.organization_id,
            actor,
            "alertRule.delete",
            "AlertRule",
            rule.id,
            {name: (value, None) for name, value in audited_rule(rule).items()},
            connection=conn,
        )


def audited_rule(rule: AlertRule) -> dict[str, Any]:
    """What the trail shows of a rule, as the API shows it: thresholds in USD, times or
    percent; the webhook masked, its secret as the last four characters."""
    kind = AlertKind(rule.kind)
    bps = rule.threshold_bps
    return {
        "kind": kind.value,
        "spendThreshold": None
        if rule.threshold_nanos is None
        else format_usd(rule.threshold_nanos),
        "activityFactor": _scaled(bps, _BPS) if kind is AlertKind.UNUSUAL_ACTIVITY else None,
        "errorRatePercent": _scaled(bps, 100) if kind is AlertKind.ERROR_RATE else None,
        "windowMinutes": rule.window_minutes,
        "minRequests": rule.min_requests,
        "enabled": rule.enabled,
        "webhookUrl": None if rule.webhook_url is None else mask_webhook_url(rule.webhook_url),
        "webhookSecret": None if rule.webhook_secret is None else secret_hint(rule.webhook_secret),
        "email": rule.email,
    }


def _scaled(bps: int | None, per_unit: int) -> str | None:
    # Stored in basis points with at most 2 decimals of the unit, so this is exact.
    return None if bps is None else str((Decimal(bps) / per_unit).quantize(Decimal("0.01")))


async def _columns(scope: Scope, data: RuleInput) -> dict[str, Any]:
    """The model columns for `data`, or BadInputError naming the first bad field."""
    kind = data.kind
    given = {
        "spendThreshold": data.spend_threshold_nanos,
        "activityFactor": data.activity_factor_bps,
        "errorRatePercent": data.error_rate_bps,
        "windowMinutes": data.window_minutes,
        "minRequests": data.min_requests,
    }
    uses = _USES.get(kind, frozenset())
    for name, value in given.items():
        if value is not None and name not in uses:
            raise BadInputError(f"{name}: not used by {kind.value} rules")
    await _check_api_key(scope, data)
    webhook_url = _checked("webhookUrl", check_webhook_url, data.webhook_url)
    email = _checked("email", check_email, data.email)
    if kind in DELIVERY_ONLY and webhook_url is None and email is None:
        raise BadInputError(
            f"webhookUrl: a {kind.value} rule only says where those alerts go; "
            "give webhookUrl or email (or both)"
        )
    threshold_nanos: int | None = None
    threshold_bps: int | None = None
    if kind is AlertKind.DAILY_SPEND:
        threshold_nanos = _positive("spendThreshold", data.spend_threshold_nanos)
    elif kind is AlertKind.UNUSUAL_ACTIVITY:
        threshold_bps = _required("activityFactor", data.activity_factor_bps)
        if not _BPS < threshold_bps <= MAX_FACTOR_BPS:
            raise BadInputError(
                "activityFactor: must be more than 1 and at most 100 "
                "(3 fires at three times the usual activity)"
            )
    elif kind is AlertKind.ERROR_RATE:
        threshold_bps = _required("errorRatePercent", data.error_rate_bps)
        if not 0 < threshold_bps <= _BPS:
            raise BadInputError("errorRatePercent: must be more than 0 and at most 100")
    window = DEFAULT_WINDOW_MINUTES if data.window_minutes is None else data.window_minutes
    if not MIN_WINDOW_MINUTES <= window <= MAX_WINDOW_MINUTES:
        raise BadInputError(
            f"windowMinutes: must be {MIN_WINDOW_MINUTES} to {MAX_WINDOW_MINUTES} minutes"
        )
    minimum = DEFAULT_MIN_REQUESTS if data.min_requests is None else data.min_requests
    if not 1 <= minimum <= MAX_MIN_REQUESTS:
        raise BadInputError(f"minRequests: must be 1 to {MAX_MIN_REQUESTS}")
    return {
        "threshold_nanos": threshold_nanos,
        "threshold_bps": threshold_bps,
        "window_minutes": window,
        "min_requests": minimum,
        "enabled": data.enabled,
        "webhook_url": webhook_url,
        "email": email,
    }


async def _check_api_key(scope: Scope, data: RuleInput) -> None:
    if data.api_key_id is None:
        return
    if data.kind in (AlertKind.BUDGET, AlertKind.LOW_BALANCE):
        raise BadInputError(f"apiKeyId: {data.kind.value} alerts are about the whole organization")
    if not await scope.api_keys().filter(id=data.api_key_id).exists():
        raise NotFoundError("apiKeyId: no such API key")


def _secret(data: RuleInput, existing: str | None, rotate: bool) -> str | None:
    if data.webhook_url is None:
        if data.webhook_secret is not None:
            raise BadInputError("webhookSecret: only a rule with a webhookUrl has a secret")
        if rotate:
            raise BadInputError("rotateWebhookSecret: the rule has no webhookUrl")
        return None
    if data.webhook_secret is not None:
        if rotate:
            raise BadInputError("webhookSecret: give a secret or rotate, not both")
        return _checked("webhookSecret", check_secret, data.webhook_secret)
    if existing is not None and not rotate:
        return existing
    return generate_secret()


def _checked(field: str, check: Callable[[str], str], value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check(value)
    except ValueError as exc:
        raise BadInputError(f"{field}: {exc}") from None


def _required(field: str, value: int | None) -> int:
    if value is None:
        raise BadInputError(f"{field}: required for this kind of rule")
    return value


def _positive(field: str, value: int | None) -> int:
    number = _required(field, value)
    if number <= 0:
        raise BadInputError(f"{field}: must be greater than 0")
    return number
