"""Enums exposed in the schema (mapped from the storage enums)."""

from __future__ import annotations

import strawberry

from models.access_token import Scope as TokenScope
from models.api_key import KeyStatus
from models.member import Role
from models.organization import Tier

RoleEnum = strawberry.enum(Role, name="Role", description="MEMBER, ADMIN or OWNER.")
KeyStatusEnum = strawberry.enum(KeyStatus, name="ApiKeyStatus")
TierEnum = strawberry.enum(Tier, name="Tier")
TokenScopeEnum = strawberry.enum(TokenScope, name="TokenScope")
