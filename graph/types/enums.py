"""Enums exposed in the schema (mapped from the storage enums)."""

from __future__ import annotations

import strawberry

from graph.types.enum_values import describe_values
from models.access_token import Scope as TokenScope
from models.api_key import KeyStatus
from models.member import Role
from models.organization import Tier

RoleEnum = strawberry.enum(Role, name="Role", description="MEMBER, ADMIN or OWNER.")

describe_values(
    RoleEnum,
    {
        "MEMBER": "Sees only their own usage and keys.",
        "ADMIN": "Sees and manages the organization; invites Members.",
        "OWNER": "Everything an Admin may, plus money, roles and ownership.",
    },
)
KeyStatusEnum = strawberry.enum(
    KeyStatus,
    name="ApiKeyStatus",
    description="Whether a key may be used: ACTIVE, BLOCKED, REVOKED or UNSYNCED.",
)

describe_values(
    KeyStatusEnum,
    {
        "ACTIVE": "The key may be used.",
        "BLOCKED": (
            "Refused for now: by hand or because it reached its monthly limit; can be reactivated."
        ),
        "REVOKED": "Refused for good; revocation is final.",
        "UNSYNCED": (
            "Seen only in ingested usage, not yet told by directory sync;"
            " keyAccess treats it as unknown."
        ),
    },
)
TierEnum = strawberry.enum(
    Tier,
    name="Tier",
    description="The organization's plan; it decides how billing periods are cut.",
)

describe_values(
    TierEnum,
    {
        "FREE": "Free plan: calendar-month billing periods.",
        "TEAM": "Team plan: calendar-month billing periods.",
        "BUSINESS": "Business plan: periods from the billing anchor day.",
        "ENTERPRISE": "Enterprise plan: periods from the contract.",
    },
)
TokenScopeEnum = strawberry.enum(
    TokenScope, name="TokenScope", description="What an access token may do."
)

describe_values(
    TokenScopeEnum,
    {
        "READ": "Read analytics through the API.",
        "EXPORT": "Download exports.",
        "ADMIN": "Change settings, keys, members and money (with the role allowing it).",
        "INGEST": "Gateway service token: ingest requests and ask keyAccess; no analytics.",
        "DIRECTORY": "Gateway service token: sync keys and members; no analytics.",
    },
)
