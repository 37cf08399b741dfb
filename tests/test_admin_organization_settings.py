"""updateOrganizationSettings: who may change which setting, validation naming the field, and
the audit trail's old -> new values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models.organization import Organization
from tests.admin_callers import CALLERS, audit_trail, make_callers
from tests.factories import gql, make_org

UPDATE = """
mutation S($input: UpdateOrganizationSettingsInput!) {
  updateOrganizationSettings(input: $input) {
    name timezone billingAnchorDay logBodies markupPercent fixedFee wallet { lowBalanceThreshold }
  }
}
"""


def message(result: Any) -> str:
    assert result.errors, "expected an error"
    return str(result.errors[0]["message"])


@pytest.mark.parametrize("caller", CALLERS)
async def test_who_may_rename_the_organization(client: httpx.AsyncClient, caller: str) -> None:
    callers = await make_callers(await make_org(name="Acme"))

    result = await gql(client, callers.tokens[caller], UPDATE, input={"name": "Acme Labs"})

    name = (await Organization.get(id=callers.org.id)).name
    if caller in {"owner", "admin"}:
        assert result.errors is None
        assert result.data is not None
        assert result.data["updateOrganizationSettings"]["name"] == "Acme Labs"
        assert name == "Acme Labs"
        assert await audit_trail(callers.org.id) == [
            (
                "organization.settings",
                callers.org.id,
                {"name": {"old": "Acme", "new": "Acme Labs"}},
            )
        ]
    else:
        assert result.error_codes == ["FORBIDDEN"]
        assert name == "Acme"


@pytest.mark.parametrize(
    "owner_only",
    [
        {"markupPercent": "10"},
        {"fixedFee": "0.02"},
        {"billingAnchorDay": 15},
        {"timezone": "Europe/Paris"},
        {"logBodies": True},
    ],
    ids=["markupPercent", "fixedFee", "billingAnchorDay", "timezone", "logBodies"],
)
async def test_money_billing_and_body_logging_are_owner_only(
    client: httpx.AsyncClient, owner_only: dict[str, object]
) -> None:
    callers = await make_callers()
    field = next(iter(owner_only))

    by_admin = await gql(client, callers.tokens["admin"], UPDATE, input=owner_only)
    by_owner = await gql(client, callers.tokens["owner"], UPDATE, input=owner_only)

    assert by_admin.error_codes == ["FORBIDDEN"]
    assert message(by_admin) == f"Only Owners can change {field}."
    assert by_owner.errors is None
    trail = await audit_trail(callers.org.id)
    assert len(trail) == 1 and field in trail[0][2]


async def test_an_owner_changes_every_setting_and_the_trail_keeps_old_and_new(
    client: httpx.AsyncClient,
) -> None:
    callers = await make_callers(await make_org(name="Acme"))

    result = await gql(
        client,
        callers.tokens["owner"],
        UPDATE,
        input={
            "timezone": "Asia/Kolkata",
            "billingAnchorDay": 15,
            "logBodies": True,
            "lowBalanceThreshold": "25.5",
        },
    )

    assert result.errors is None
    assert result.data == {
        "updateOrganizationSettings": {
            "name": "Acme",
            "timezone": "Asia/Kolkata",
            "billingAnchorDay": 15,
            "logBodies": True,
            "markupPercent": "0.00",
            "fixedFee": "0.00",
            "wallet": {"lowBalanceThreshold": "25.50"},
        }
    }
    assert await audit_trail(callers.org.id) == [
        (
            "organization.settings",
            callers.org.id,
            {
                "timezone": {"old": "UTC", "new": "Asia/Kolkata"},
                "billingAnchorDay": {"old": 1, "new": 15},
                "logBodies": {"old": False, "new": True},
                "lowBalanceThreshold": {"old": "10", "new": "25.5"},
            },
        )
    ]


@pytest.mark.parametrize(
    ("settings", "code", "expected"),
    [
        (
            {"timezone": "Mars/Olympus"},
            "BAD_USER_INPUT",
            "timezone: unknown timezone 'Mars/Olympus'; use an IANA name like Europe/Paris",
        ),
        (
            {"billingAnchorDay": 32},
            "BAD_USER_INPUT",
            "billingAnchorDay: a day of the month from 1 to 31",
        ),
        (
            {"billingAnchorDay": 0},
            "BAD_USER_INPUT",
            "billingAnchorDay: a day of the month from 1 to 31",
        ),
        ({"name": " "}, "BAD_USER_INPUT", "name: 1 to 200 characters"),
        ({"name": None}, "BAD_USER_INPUT", "name: cannot be null; leave it out to keep the value"),
        (
            {"markupPercent": "12.345"},
            "BAD_USER_INPUT",
            "markupPercent: markup percent Decimal('12.345') has more than 2 decimal places",
        ),
        (
            {"markupPercent": "1000.01"},
            "BAD_USER_INPUT",
            "markupPercent: from 0 to 1000.00 percent",
        ),
        ({"fixedFee": "-0.01"}, "BAD_USER_INPUT", "fixedFee: from 0 to 100 USD"),
        (
            {"lowBalanceThreshold": "-1"},
            "BAD_USER_INPUT",
            "lowBalanceThreshold: cannot be negative",
        ),
        (
            {"pricingEffectiveFrom": "2030-01-01T00:00:00Z"},
            "BAD_USER_INPUT",
            "pricingEffectiveFrom: only with a new markupPercent or fixedFee",
        ),
    ],
    ids=[
        "timezone",
        "anchor-29",
        "anchor-0",
        "blank-name",
        "null-name",
        "markup-decimals",
        "markup-too-high",
        "negative-fee",
        "negative-threshold",
        "effective-alone",
    ],
)
async def test_unusable_settings_are_bad_user_input_naming_the_field(
    client: httpx.AsyncClient, settings: dict[str, object], code: str, expected: str
) -> None:
    callers = await make_callers(await make_org(name="Acme"))

    result = await gql(client, callers.tokens["owner"], UPDATE, input=settings)

    assert result.error_codes == [code]
    assert message(result) == expected
    org = await Organization.get(id=callers.org.id)
    assert (org.name, org.timezone, org.billing_anchor_day) == ("Acme", "UTC", 1)
    assert await audit_trail(callers.org.id) == []


async def test_a_markup_change_in_the_past_is_refused(client: httpx.AsyncClient) -> None:
    callers = await make_callers()
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()

    result = await gql(
        client,
        callers.tokens["owner"],
        UPDATE,
        input={"markupPercent": "10", "pricingEffectiveFrom": past},
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert message(result).startswith("pricingEffectiveFrom: at the earliest ")
    assert message(result).endswith(
        "(6 minutes from now): requests already priced keep their price"
    )
    assert await audit_trail(callers.org.id) == []
