"""Alert rule mutations (Admins/Owners): create, change and delete rules."""

from __future__ import annotations

from typing import Annotated

import strawberry

from admin.alert_rules import (
    SavedRule,
    create_alert_rule,
    delete_alert_rule,
    get_alert_rule,
    rule_input_of,
    update_alert_rule,
)
from audit.trail import Actor
from graph.context import Info
from graph.inputs.alert_rules import CreateAlertRuleInput, UpdateAlertRuleInput
from graph.permissions import CanAdminister, require
from graph.types.alert_rule import AlertRulePayload, AlertRuleType, decode_rule_id


def _payload(saved: SavedRule) -> AlertRulePayload:
    return AlertRulePayload(
        rule=AlertRuleType.from_model(saved.rule), webhook_secret=saved.webhook_secret
    )


@strawberry.type
class AlertRuleMutations:
    @strawberry.mutation(
        description=(
            "Create an alert rule. Usage kinds need their threshold (DAILY_SPEND: "
            "spendThreshold; UNUSUAL_ACTIVITY: activityFactor; ERROR_RATE: errorRatePercent); "
            "KEY_LIMIT, BUDGET and LOW_BALANCE rules need a webhookUrl or email. A webhook "
            "without webhookSecret gets a generated one, returned here once."
        ),
        extensions=require(CanAdminister),
    )
    async def create_alert_rule(
        self,
        info: Info,
        input: Annotated[
            CreateAlertRuleInput,
            strawberry.argument(description="The rule: kind, threshold, window and receivers."),
        ],
    ) -> AlertRulePayload:
        saved = await create_alert_rule(
            info.context.scope, input.to_rule_input(), actor=Actor.of(info.context.viewer)
        )
        return _payload(saved)

    @strawberry.mutation(
        description=(
            "Change a rule; fields left out stay as they are. Changing what it checks "
            "(threshold, window, minimum, enabled) ends a running episode."
        ),
        extensions=require(CanAdminister),
    )
    async def update_alert_rule(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The rule's global id.")],
        input: Annotated[
            UpdateAlertRuleInput,
            strawberry.argument(description="The fields to change; those left out stay."),
        ],
    ) -> AlertRulePayload:
        scope = info.context.scope
        rule_id = decode_rule_id(id)
        current = rule_input_of(await get_alert_rule(scope, rule_id))
        saved = await update_alert_rule(
            scope,
            rule_id,
            input.apply_to(current),
            actor=Actor.of(info.context.viewer),
            rotate_secret=input.rotate_webhook_secret,
        )
        return _payload(saved)

    @strawberry.mutation(
        description="Delete a rule; its fired alerts stay listed. Returns the deleted id.",
        extensions=require(CanAdminister),
    )
    async def delete_alert_rule(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The rule's global id.")],
    ) -> strawberry.ID:
        await delete_alert_rule(
            info.context.scope, decode_rule_id(id), actor=Actor.of(info.context.viewer)
        )
        return id
