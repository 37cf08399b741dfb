"""Small factories for tests: organizations, members, keys, tokens and priced logs."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from auth.tokens import issue_token
from ingestion.writer import write_records
from models.access_token import Scope
from models.api_key import ApiKey
from models.member import Member, Role
from models.organization import Organization
from models.priced_record import PricedRecord
from pricing.catalog import ModelPrice
from pricing.cost import customer_cost
from pricing.money import usd_to_nanos

_counter = itertools.count(1)


async def make_org(**fields: Any) -> Organization:
    n = next(_counter)
    defaults: dict[str, Any] = {"name": f"Org {n}", "slug": f"org-{n}", "timezone": "UTC"}
    return await Organization.create(**{**defaults, **fields})


async def make_member(org: Organization, role: Role = Role.MEMBER, **fields: Any) -> Member:
    n = next(_counter)
    defaults: dict[str, Any] = {"name": f"Person {n}", "email": f"person{n}@example.com"}
    return await Member.create(organization=org, role=role, **{**defaults, **fields})


async def make_key(org: Organization, owner: Member | None = None, **fields: Any) -> ApiKey:
    n = next(_counter)
    defaults: dict[str, Any] = {"label": f"Key {n}", "prefix": f"sk-aize-{n:06d}"}
    return await ApiKey.create(organization=org, owner=owner, **{**defaults, **fields})


async def make_token(member: Member, scopes: list[Scope] | None = None) -> str:
    return (await issue_token(member.organization_id, member, "test", scopes)).token


async def make_ingest_token(org: Organization) -> str:
    return (await issue_token(org.id, None, "gateway", [Scope.INGEST])).token


def make_record(
    org: Organization,
    key: ApiKey,
    member: Member | None,
    timestamp: datetime,
    *,
    provider_cost_nanos: int = 100_000_000,
    status_code: int = 200,
    model: str = "gpt-4",
    **fields: Any,
) -> PricedRecord:
    cost = customer_cost(provider_cost_nanos, org.markup_bps, org.fixed_fee_nanos)
    values: dict[str, Any] = {
        "request_id": uuid.uuid4(),
        "organization_id": org.id,
        "api_key_id": key.id,
        "member_id": member.id if member else None,
        "timestamp": timestamp.astimezone(UTC),
        "model": model,
        "provider_model": f"{model}-0613",
        "endpoint": "/v1/chat/completions",
        "input_tokens": 100,
        "output_tokens": 50,
        "provider_cost_nanos": cost.provider_cost_nanos,
        "markup_nanos": cost.markup_nanos,
        "fixed_fee_nanos": cost.fixed_fee_nanos,
        "customer_cost_nanos": cost.customer_cost_nanos,
        "priced": True,
        "latency_ms": 1200,
        "status_code": status_code,
        "error_message": None if status_code < 400 else f"error {status_code}",
        "metadata": {"temperature": "0.7"},
    }
    values.update(fields)
    return PricedRecord(**values)


async def store(*records: PricedRecord) -> None:
    await write_records(list(records))


@dataclass
class GraphQLResult:
    status: int
    data: dict[str, Any] | None
    errors: list[dict[str, Any]] | None

    @property
    def error_codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code", "") for e in self.errors or []]


async def gql(
    client: httpx.AsyncClient, token: str | None, query: str, **variables: Any
) -> GraphQLResult:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = response.json()
    return GraphQLResult(response.status_code, body.get("data"), body.get("errors"))


def mystery_price(effective_from: datetime) -> ModelPrice:
    """A price for `mystery-1`, a model the catalog does not know ($10 / $20 per million
    input / output tokens): what a reprice applies to records stored unpriced."""
    return ModelPrice(
        model="mystery-1",
        provider="acme",
        input_per_million_nanos=usd_to_nanos("10"),
        output_per_million_nanos=usd_to_nanos("20"),
        effective_from=effective_from,
    )
