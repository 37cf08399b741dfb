"""Alert rule inputs: GraphQL values to a `RuleInput` (nano-USD, basis points), or a
BAD_USER_INPUT error naming the field. Update inputs change only the fields they carry."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import strawberry

from admin.alert_rules import RuleInput
from graph.errors import BadUserInputError
from graph.inputs.amounts import amount_nanos
from graph.types.alert import AlertKindEnum
from models.alert import AlertKind
from models.global_ids import decode_global_id_of
from pricing.money import to_scaled_int

_FIELD_HELP = {
    "spend_threshold": "DAILY_SPEND: USD spent in one local day (> 0).",
    "activity_factor": "UNUSUAL_ACTIVITY: times the usual activity, more than 1, e.g. 3.",
    "error_rate_percent": "ERROR_RATE: percent of 4xx+5xx answers, more than 0, at most 100.",
    "window_minutes": "UNUSUAL_ACTIVITY, ERROR_RATE: trailing window, 5 to 1440 (default 60).",
    "min_requests": "UNUSUAL_ACTIVITY, ERROR_RATE: requests needed in the window (default 50).",
    "webhook_url": "http(s) URL to POST each alert to (signed, see X-Aize-Signature).",
    "webhook_secret": "16 to 200 characters; left out, one is generated and returned once.",
    "email": "An address to email each alert to (when the server has SMTP configured).",
}


def _hundredths(value: Decimal, field: str) -> int:
    """`value` x 100 exactly (2 decimals at most), or BAD_USER_INPUT naming `field`."""
    try:
        return to_scaled_int(value, 2, field)
    except ValueError as exc:
        raise BadUserInputError(f"{field}: {exc}") from None


def _key_pk(api_key_id: strawberry.ID | None) -> int | None:
    if api_key_id is None:
        return None
    # An id of another type is NOT_FOUND like a missing key (-1 never is).
    return decode_global_id_of(str(api_key_id), "ApiKey") or -1


def _converted(values: dict[str, Any]) -> dict[str, Any]:
    """GraphQL field values (snake_case) to RuleInput fields."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == "spend_threshold":
            out["spend_threshold_nanos"] = (
                None if value is None else amount_nanos(value, "spendThreshold")
            )
        elif name == "activity_factor":
            out["activity_factor_bps"] = (
                None if value is None else _hundredths(value, "activityFactor") * 100
            )
        elif name == "error_rate_percent":
            out["error_rate_bps"] = (
                None if value is None else _hundredths(value, "errorRatePercent")
            )
        elif name == "enabled":
            if value is None:
                raise BadUserInputError("enabled: must be true or false")
            out["enabled"] = value
        else:
            out[name] = value
    return out


@strawberry.input(name="CreateAlertRuleInput", description="A new alert rule.")
class CreateAlertRuleInput:
    kind: AlertKindEnum = strawberry.field(  # type: ignore[valid-type]
        description="What the rule watches; decides which threshold it needs."
    )
    api_key_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Limit the rule to this key (usage kinds and KEY_LIMIT); null: all.",
    )
    spend_threshold: Decimal | None = strawberry.field(
        default=None, description=_FIELD_HELP["spend_threshold"]
    )
    activity_factor: Decimal | None = strawberry.field(
        default=None, description=_FIELD_HELP["activity_factor"]
    )
    error_rate_percent: Decimal | None = strawberry.field(
        default=None, description=_FIELD_HELP["error_rate_percent"]
    )
    window_minutes: int | None = strawberry.field(
        default=None, description=_FIELD_HELP["window_minutes"]
    )
    min_requests: int | None = strawberry.field(
        default=None, description=_FIELD_HELP["min_requests"]
    )
    enabled: bool = strawberry.field(default=True, description="False creates the rule paused.")
    webhook_url: str | None = strawberry.field(default=None, description=_FIELD_HELP["webhook_url"])
    webhook_secret: str | None = strawberry.field(
        default=None, description=_FIELD_HELP["webhook_secret"]
    )
    email: str | None = strawberry.field(default=None, description=_FIELD_HELP["email"])

    def to_rule_input(self) -> RuleInput:
        values = {
            "spend_threshold": self.spend_threshold,
            "activity_factor": self.activity_factor,
            "error_rate_percent": self.error_rate_percent,
            "window_minutes": self.window_minutes,
            "min_requests": self.min_requests,
            "enabled": self.enabled,
            "webhook_url": self.webhook_url,
            "webhook_secret": self.webhook_secret,
            "email": self.email,
        }
        return RuleInput(
            kind=AlertKind(self.kind), api_key_id=_key_pk(self.api_key_id), **_converted(values)
        )


@strawberry.input(
    name="UpdateAlertRuleInput",
    description="Changes to a rule: fields left out stay as they are; null clears webhookUrl "
    "or email. The kind and the key cannot change.",
)
class UpdateAlertRuleInput:
    spend_threshold: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description=_FIELD_HELP["spend_threshold"]
    )
    activity_factor: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description=_FIELD_HELP["activity_factor"]
    )
    error_rate_percent: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description=_FIELD_HELP["error_rate_percent"]
    )
    window_minutes: int | None = strawberry.field(
        default=strawberry.UNSET, description=_FIELD_HELP["window_minutes"]
    )
    min_requests: int | None = strawberry.field(
        default=strawberry.UNSET, description=_FIELD_HELP["min_requests"]
    )
    enabled: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Pause (false) or resume (true) the rule."
    )
    webhook_url: str | None = strawberry.field(
        default=strawberry.UNSET, description=_FIELD_HELP["webhook_url"]
    )
    webhook_secret: str | None = strawberry.field(
        default=strawberry.UNSET, description=_FIELD_HELP["webhook_secret"]
    )
    rotate_webhook_secret: bool = strawberry.field(
        default=False, description="Replace the signing secret with a generated one."
    )
    email: str | None = strawberry.field(default=strawberry.UNSET, description=_FIELD_HELP["email"])

    def apply_to(self, current: RuleInput) -> RuleInput:
        """`current` with the fields this input carries replaced."""
        names = (
            "spend_threshold",
            "activity_factor",
            "error_rate_percent",
            "window_minutes",
            "min_requests",
            "enabled",
            "webhook_url",
            "webhook_secret",
            "email",
        )
        given = {
            name: getattr(self, name)
            for name in names
            if getattr(self, name) is not strawberry.UNSET
        }
        return replace(current, **_converted(given))
