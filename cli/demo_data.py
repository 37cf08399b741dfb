"""A realistic demo dataset: three organizations, every role, personal and team keys, a dozen
priced models, 90 days of request logs with real-looking errors and latencies.

Records go through the same writer as ingestion, so rollups, wallet and spend are exactly
what ingest would have produced.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from auth.tokens import issue_token
from ingestion.pricing import catalog_price, request_cost
from ingestion.records import PricedRecord
from ingestion.writer import write_records
from models.access_token import Scope
from models.api_key import ApiKey
from models.member import Member, Role
from models.organization import Organization, Tier
from models.wallet import EntryKind, WalletEntry
from pricing.catalog import PriceCatalog, load_default_catalog
from pricing.cost import CostBreakdown
from pricing.money import usd_to_nanos

# (alias, provider model, typical input tokens, typical output tokens, median latency ms)
MODELS = [
    ("gpt-4o", "gpt-4o-2024-08-06", 900, 350, 1800),
    ("gpt-4o-mini", "gpt-4o-mini-2024-07-18", 700, 300, 900),
    ("gpt-4", "gpt-4-0613", 800, 300, 3500),
    ("gpt-4-turbo", "gpt-4-turbo-2024-04-09", 1000, 400, 2800),
    ("gpt-3.5-turbo", "gpt-3.5-turbo-0125", 500, 250, 800),
    ("o3-mini", "o3-mini-2025-01-31", 600, 1200, 6000),
    ("claude-3-5-sonnet", "claude-3-5-sonnet-20241022", 1200, 450, 2500),
    ("claude-3-5-haiku", "claude-3-5-haiku-20241022", 600, 250, 1100),
    ("claude-3-opus", "claude-3-opus-20240229", 1100, 500, 5200),
    ("gemini-1.5-pro", "gemini-1.5-pro-002", 1500, 400, 2600),
    ("gemini-1.5-flash", "gemini-1.5-flash-002", 900, 300, 700),
    ("mistral-large", "mistral-large-2411", 800, 350, 2100),
]
MODEL_WEIGHTS = [18, 22, 6, 5, 14, 3, 12, 7, 2, 4, 5, 2]
ENDPOINTS = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses"]
ENDPOINT_WEIGHTS = [80, 5, 10, 5]
# (status, weight, message)
STATUSES = [
    (200, 9500, None),
    (400, 90, "Invalid request: 'messages' must be a non-empty array"),
    (401, 60, "Invalid API key: key was revoked or blocked"),
    (402, 30, "Payment required: wallet balance is insufficient"),
    (403, 25, "Model not allowed for this API key"),
    (429, 160, "Rate limit exceeded: too many requests per minute"),
    (500, 60, "Internal server error: upstream returned an invalid response"),
    (503, 75, "Service unavailable: provider is overloaded, retry later"),
]


@dataclass(frozen=True, slots=True)
class DemoTokens:
    owner: str
    admin: str
    member: str
    ingest: str
    organization: str


@dataclass(frozen=True, slots=True)
class OrgPlan:
    name: str
    slug: str
    tier: Tier
    timezone: str
    markup: str
    fee: str
    budget: str | None
    share: float
    members: int


ORGS = [
    OrgPlan(
        "Acme AI", "acme-ai", Tier.ENTERPRISE, "America/New_York", "25", "0.001", "2500", 0.62, 14
    ),
    OrgPlan("Globex Labs", "globex", Tier.BUSINESS, "Europe/Berlin", "20", "0", "900", 0.28, 7),
    OrgPlan("Initech", "initech", Tier.TEAM, "Asia/Kolkata", "30", "0.0005", None, 0.10, 4),
]
FIRST_NAMES = [
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Barbara",
    "Ken",
    "Margaret",
    "Dennis",
    "Radia",
    "Edsger",
    "Frances",
    "John",
    "Sophie",
    "Tim",
    "Hedy",
    "Guido",
]


async def seed_demo(requests: int, *, seed: int = 7, now: datetime | None = None) -> DemoTokens:
    """Create the demo organizations and `requests` logs; returns tokens for the first org."""
    rng = random.Random(seed)
    end = (now or datetime.now(UTC)).replace(microsecond=0)
    catalog = load_default_catalog()
    tokens: DemoTokens | None = None
    for plan in ORGS:
        org, members, keys = await _create_org(plan, rng)
        count = max(1, round(requests * plan.share))
        await _write_logs(org, members, keys, count, end, rng, catalog)
        if tokens is None:
            tokens = await _tokens_for(org, members)
    assert tokens is not None
    return tokens


async def demo_tokens() -> DemoTokens | None:
    """Fresh tokens for the demo's first organization, if it exists."""
    org = await Organization.get_or_none(slug=ORGS[0].slug)
    if org is None:
        return None
    members = await Member.filter(organization_id=org.id).order_by("id")
    return await _tokens_for(org, members)


async def _tokens_for(org: Organization, members: list[Member]) -> DemoTokens:
    by_role = {role: next(m for m in members if m.role == role) for role in Role}
    owner = await issue_token(org.id, by_role[Role.OWNER], "demo owner")
    admin = await issue_token(org.id, by_role[Role.ADMIN], "demo admin")
    member = await issue_token(org.id, by_role[Role.MEMBER], "demo member")
    ingest = await issue_token(org.id, None, "demo gateway", [Scope.INGEST])
    return DemoTokens(owner.token, admin.token, member.token, ingest.token, org.name)


async def _create_org(
    plan: OrgPlan, rng: random.Random
) -> tuple[Organization, list[Member], list[ApiKey]]:
    org = await Organization.create(
        name=plan.name,
        slug=plan.slug,
        tier=plan.tier,
        timezone=plan.timezone,
        markup_bps=int(plan.markup) * 100,
        fixed_fee_nanos=usd_to_nanos(plan.fee),
        monthly_budget_nanos=usd_to_nanos(plan.budget) if plan.budget else None,
    )
    members = []
    for i in range(plan.members):
        role = Role.OWNER if i == 0 else Role.ADMIN if i in (1, 2) else Role.MEMBER
        name = f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {plan.name.split()[0]}"
        email = f"{FIRST_NAMES[i % len(FIRST_NAMES)].lower()}{i}@{plan.slug}.example"
        members.append(await Member.create(organization=org, name=name, email=email, role=role))
    keys = []
    for member in members:
        keys.append(
            await ApiKey.create(
                organization=org,
                owner=member,
                label=f"{member.name.split()[0]}'s key",
                prefix=f"sk-aize-{rng.randrange(16**6):06x}",
                monthly_limit_nanos=usd_to_nanos("400") if member.role == Role.MEMBER else None,
            )
        )
    for label in ("Production backend", "Staging", "Batch jobs"):
        keys.append(
            await ApiKey.create(
                organization=org,
                owner=None,
                label=label,
                prefix=f"sk-aize-{rng.randrange(16**6):06x}",
            )
        )
    deposit = usd_to_nanos("50000")
    await WalletEntry.create(
        organization=org,
        kind=EntryKind.DEPOSIT,
        amount_nanos=deposit,
        balance_after_nanos=deposit,
        note="Initial deposit",
        created_at=datetime.now(UTC),
    )
    org.wallet_balance_nanos = deposit
    await org.save(update_fields=["wallet_balance_nanos"])
    return org, members, keys


async def _write_logs(
    org: Organization,
    members: list[Member],
    keys: list[ApiKey],
    count: int,
    end: datetime,
    rng: random.Random,
    catalog: PriceCatalog,
) -> None:
    start = end - timedelta(days=90)
    span = (end - start).total_seconds()
    # Heavier users: a few members make most requests (Zipf-like weights).
    key_weights = [1 / (i + 1) ** 0.8 for i in range(len(keys))]
    batch: list[PricedRecord] = []
    for _ in range(count):
        # Usage grows over the 90 days and follows the working day.
        offset = span * math.sqrt(rng.random())
        timestamp = start + timedelta(seconds=offset)
        key = rng.choices(keys, key_weights)[0]
        member_id = key.owner_id if key.owner_id else rng.choice(members).id
        alias, provider_model, tin, tout, latency = rng.choices(MODELS, MODEL_WEIGHTS)[0]
        status, _, message = rng.choices(STATUSES, [s[1] for s in STATUSES])[0]
        endpoint = rng.choices(ENDPOINTS, ENDPOINT_WEIGHTS)[0]
        ok = status == 200
        input_tokens = (
            max(1, int(rng.lognormvariate(math.log(tin), 0.7))) if ok else rng.randrange(0, 400)
        )
        output_tokens = max(1, int(rng.lognormvariate(math.log(tout), 0.8))) if ok else 0
        latency_ms = max(20, int(rng.lognormvariate(math.log(latency if ok else 300), 0.5)))
        # Priced by the ingest rules (ingestion/pricing.py): failures pay for their tokens,
        # never the fixed fee.
        price = catalog_price(catalog, provider_model, alias, timestamp)
        cost = request_cost(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            status_code=status,
            price=price,
            provider_cost=None,
            markup_bps=org.markup_bps,
            fixed_fee_nanos=org.fixed_fee_nanos,
        ) or CostBreakdown(0, 0, 0, 0)
        batch.append(
            PricedRecord(
                request_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                organization_id=org.id,
                api_key_id=key.id,
                member_id=member_id,
                timestamp=timestamp,
                model=alias,
                provider_model=provider_model,
                endpoint=endpoint,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                provider_cost_nanos=cost.provider_cost_nanos,
                markup_nanos=cost.markup_nanos,
                fixed_fee_nanos=cost.fixed_fee_nanos,
                customer_cost_nanos=cost.customer_cost_nanos,
                priced=price is not None,
                latency_ms=latency_ms,
                status_code=status,
                error_message=message,
                metadata={
                    "temperature": rng.choice([0, 0.2, 0.7, 1]),
                    "max_tokens": rng.choice([256, 512, 1024, 4096]),
                    "stream": rng.random() < 0.4,
                },
            )
        )
        if len(batch) >= 2000:
            await write_records(batch)
            batch = []
    if batch:
        await write_records(batch)
