"""A realistic demo dataset: three organizations, every role, personal and team keys, a dozen
priced models, 90 days of request logs with real-looking errors and latencies.

It reads like a real history, not like rows created at seeding time: each organization
existed before its first request, members joined over the months and their keys were created
when they joined, a key was revoked (and replaced) a month ago, and every request falls
inside its key's lifetime. Acme AI's "Batch jobs" key runs away in the last 50 minutes, and
an UNUSUAL_ACTIVITY rule watches it, so the alert worker has something to find
(docs/readme/demo.md).

Records go through the same writer as ingestion, so rollups, wallet and spend are exactly
what ingest would have produced.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from alerts.targets import generate_secret
from auth.tokens import issue_token
from ingestion.folding import drain
from ingestion.pricing import catalog_price, request_cost
from ingestion.providers import resolve_provider
from ingestion.writer import write_records
from models.access_token import AccessToken, Scope
from models.alert import AlertKind, AlertRule
from models.api_key import ApiKey, KeyStatus
from models.member import Member, Role
from models.organization import Organization, Tier
from models.priced_record import PricedRecord
from models.report import ReportKind
from models.wallet import EntryKind, WalletEntry
from pricing.catalog import PriceCatalog, load_default_catalog
from pricing.class_cost import ClassCosts, TokenUsage
from pricing.cost import CostBreakdown
from pricing.money import usd_to_nanos
from reports.periods import period_containing, previous_period
from reports.producer import produce_report
from resolvers.scope import Scope as ReadScope

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
STATUS_WEIGHTS = [s[1] for s in STATUSES]


@dataclass(frozen=True, slots=True)
class DemoTokens:
    owner: str
    admin: str
    member: str
    ingest: str
    organization: str
    # A directory-sync service token (docs/readme/directory.md's examples use it).
    directory: str


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
    # How long before the 90 days of requests the organization was created.
    lead: timedelta
    # Whether its "Batch jobs" key runs away at the end (the unusual-activity story).
    runaway: bool


@dataclass(frozen=True, slots=True)
class TeamKeyPlan:
    """A team key: created `created` after the organization (or, when negative, that long
    before the end of the history), revoked `revoked` before the end if set."""

    label: str
    created: timedelta
    revoked: timedelta | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class DemoKey:
    """A key and the span in which the gateway served requests with it."""

    key: ApiKey
    weight: float
    alive_from: datetime
    alive_until: datetime


HISTORY = timedelta(days=90)
ORGS = [
    OrgPlan(
        "Acme AI",
        "acme-ai",
        Tier.ENTERPRISE,
        "America/New_York",
        "25",
        "0.001",
        "2500",
        0.62,
        14,
        timedelta(days=30),
        True,
    ),
    OrgPlan(
        "Globex Labs",
        "globex",
        Tier.BUSINESS,
        "Europe/Berlin",
        "20",
        "0",
        "900",
        0.28,
        7,
        timedelta(days=12),
        False,
    ),
    OrgPlan(
        "Initech",
        "initech",
        Tier.TEAM,
        "Asia/Kolkata",
        "30",
        "0.0005",
        None,
        0.10,
        4,
        timedelta(days=3),
        False,
    ),
]
TEAM_KEYS = [
    TeamKeyPlan("Production backend", timedelta(hours=2)),
    TeamKeyPlan("Staging", timedelta(days=1)),
    TeamKeyPlan(
        "Old CI runner",
        timedelta(hours=3),
        revoked=timedelta(days=30),
        reason="Rotated after it appeared in a CI log",
    ),
    # The replacement of the revoked key, created the moment it was revoked.
    TeamKeyPlan("CI runner", -timedelta(days=30)),
    TeamKeyPlan("Batch jobs", -timedelta(days=45)),
]
RUNAWAY_KEY = "Batch jobs"
# The runaway: this many requests (at most a fifth of the organization's) in the last
# RUNAWAY_SPAN, against a baseline of a few per hour at that time of week.
RUNAWAY_REQUESTS = 180
RUNAWAY_SPAN = timedelta(minutes=50)
# What the demo's UNUSUAL_ACTIVITY rule fires at (3x the key's usual hour, 50 requests).
RUNAWAY_RULE_FACTOR_BPS = 30_000
# Members beyond the owner and two admins join during the first two thirds of the history.
JOINING_SPAN = timedelta(days=60)
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


def demo_key_prefix(slug: str, label: str) -> str:
    """The visible prefix of a demo key: the same on every machine and every seeding, so the
    docs can print it (docs/readme/demo.md lists Acme AI's)."""
    return "sk-aize-" + hashlib.sha256(f"{slug}/{label}".encode()).hexdigest()[:6]


async def seed_demo(requests: int, *, seed: int = 7, now: datetime | None = None) -> DemoTokens:
    """Create the demo organizations and `requests` logs ending at `now`; returns tokens for
    the first organization."""
    rng = random.Random(seed)
    end = (now or datetime.now(UTC)).replace(microsecond=0)
    catalog = load_default_catalog()
    tokens: DemoTokens | None = None
    for plan in ORGS:
        org, members, keys = await _create_org(plan, end, rng)
        count = max(1, round(requests * plan.share))
        runaway = min(RUNAWAY_REQUESTS, count // 5) if plan.runaway else 0
        await _write_logs(org, members, keys, count - runaway, end, rng, catalog)
        if plan.runaway:
            batch_key = next(k for k in keys if k.key.label == RUNAWAY_KEY)
            await _write_runaway(org, members, batch_key, runaway, end, rng, catalog)
            # The report first: with the rules' webhook in place it would be delivered there.
            await _weekly_report(org, end)
            await _alert_rules(org, keys)
        if tokens is None:
            tokens = await _tokens_for(org, members, backdate=True)
    assert tokens is not None
    # Rollups folded now rather than by the first `serve` (PostgreSQL, folding deferred).
    await drain()
    return tokens


async def demo_tokens() -> DemoTokens | None:
    """Fresh tokens for the demo's first organization, if it exists."""
    org = await Organization.get_or_none(slug=ORGS[0].slug)
    if org is None:
        return None
    members = await ReadScope.for_organization(org.id).filter(Member).order_by("id")
    return await _tokens_for(org, members, backdate=False)


async def _tokens_for(org: Organization, members: list[Member], *, backdate: bool) -> DemoTokens:
    """Tokens for the first member of each role and the gateway; when seeding, each dated
    when its member joined (the gateway's when the organization was created), since they are
    the ones the history was made with."""
    by_role = {role: next(m for m in members if m.role == role) for role in Role}
    owner = await issue_token(org.id, by_role[Role.OWNER], "demo owner")
    admin = await issue_token(org.id, by_role[Role.ADMIN], "demo admin")
    member = await issue_token(org.id, by_role[Role.MEMBER], "demo member")
    ingest = await issue_token(org.id, None, "demo gateway", [Scope.INGEST])
    directory = await issue_token(org.id, None, "demo directory sync", [Scope.DIRECTORY])
    if backdate:
        for issued, created_at in (
            (owner, by_role[Role.OWNER].created_at),
            (admin, by_role[Role.ADMIN].created_at),
            (member, by_role[Role.MEMBER].created_at),
            (ingest, org.created_at),
            (directory, org.created_at),
        ):
            await AccessToken.filter(id=issued.record.id).update(created_at=created_at)
    return DemoTokens(
        owner.token, admin.token, member.token, ingest.token, org.name, directory.token
    )


async def _create_org(
    plan: OrgPlan, end: datetime, rng: random.Random
) -> tuple[Organization, list[Member], list[DemoKey]]:
    first_request = end - HISTORY
    founded = first_request - plan.lead
    org = await Organization.create(
        name=plan.name,
        slug=plan.slug,
        tier=plan.tier,
        timezone=plan.timezone,
        markup_bps=int(plan.markup) * 100,
        fixed_fee_nanos=usd_to_nanos(plan.fee),
        monthly_budget_nanos=usd_to_nanos(plan.budget) if plan.budget else None,
        created_at=founded,
    )
    # The owner and two admins start with the organization; the others join over time.
    joined = [founded + timedelta(hours=i) for i in range(min(3, plan.members))]
    joined += sorted(
        (first_request + JOINING_SPAN * rng.random()).replace(microsecond=0)
        for _ in range(plan.members - len(joined))
    )
    members = []
    for i, joined_at in enumerate(joined):
        role = Role.OWNER if i == 0 else Role.ADMIN if i in (1, 2) else Role.MEMBER
        name = f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {plan.name.split()[0]}"
        email = f"{FIRST_NAMES[i % len(FIRST_NAMES)].lower()}{i}@{plan.slug}.example"
        members.append(
            await Member.create(
                organization=org, name=name, email=email, role=role, created_at=joined_at
            )
        )
    keys = []
    for member in members:
        label = f"{member.name.split()[0]}'s key"
        # A personal key is created a few minutes after its owner joins.
        created = member.created_at + timedelta(minutes=10)
        key = await ApiKey.create(
            organization=org,
            owner=member,
            label=label,
            prefix=demo_key_prefix(plan.slug, label),
            monthly_limit_nanos=usd_to_nanos("400") if member.role == Role.MEMBER else None,
            created_at=created,
        )
        keys.append(DemoKey(key, 0.0, max(created, first_request), end))
    for team in TEAM_KEYS:
        created = founded + team.created if team.created >= timedelta(0) else end + team.created
        revoked = end - team.revoked if team.revoked is not None else None
        key = await ApiKey.create(
            organization=org,
            owner=None,
            label=team.label,
            prefix=demo_key_prefix(plan.slug, team.label),
            status=KeyStatus.REVOKED if revoked else KeyStatus.ACTIVE,
            status_reason=team.reason,
            created_at=created,
            revoked_at=revoked,
        )
        keys.append(DemoKey(key, 0.0, max(created, first_request), revoked or end))
    # Heavier users: a few keys make most requests (Zipf-like weights).
    keys = [
        DemoKey(k.key, 1 / (i + 1) ** 0.8, k.alive_from, k.alive_until) for i, k in enumerate(keys)
    ]
    deposit = usd_to_nanos("50000")
    await WalletEntry.create(
        organization=org,
        kind=EntryKind.DEPOSIT,
        amount_nanos=deposit,
        balance_after_nanos=deposit,
        note="Initial deposit",
        created_at=founded + timedelta(hours=1),
    )
    org.wallet_balance_nanos = deposit
    await org.save(update_fields=["wallet_balance_nanos"])
    return org, members, keys


async def _write_logs(
    org: Organization,
    members: list[Member],
    keys: list[DemoKey],
    count: int,
    end: datetime,
    rng: random.Random,
    catalog: PriceCatalog,
) -> None:
    start = end - HISTORY
    span = (end - start).total_seconds()
    # Which keys are alive changes at a few instants: one draw table per stretch between them.
    changes = sorted({k.alive_from for k in keys} | {k.alive_until for k in keys})
    stretches = [
        _Draw(
            [k.key for k in keys if k.alive_from <= at < k.alive_until],
            [k.weight for k in keys if k.alive_from <= at < k.alive_until],
        )
        for at in changes
    ]
    joined = [m.created_at for m in members]
    writer = _BatchWriter()
    for _ in range(count):
        # Usage grows over the 90 days; each request goes through a key alive at its time.
        timestamp = start + timedelta(seconds=span * math.sqrt(rng.random()))
        key = stretches[bisect.bisect_right(changes, timestamp) - 1].pick(rng)
        # A team key's request was made by one of the members who had joined by then.
        member_id = key.owner_id or rng.choice(members[: bisect.bisect_right(joined, timestamp)]).id
        model = rng.choices(MODELS, MODEL_WEIGHTS)[0]
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        await writer.add(_record(org, key.id, member_id, timestamp, model, status, rng, catalog))
    await writer.flush()


class _Draw:
    """A weighted draw of keys (cumulative weights, computed once)."""

    def __init__(self, keys: list[ApiKey], weights: list[float]) -> None:
        self.keys = keys
        self.cumulative = list(itertools.accumulate(weights))

    def pick(self, rng: random.Random) -> ApiKey:
        return rng.choices(self.keys, cum_weights=self.cumulative)[0]


async def _write_runaway(
    org: Organization,
    members: list[Member],
    batch: DemoKey,
    count: int,
    end: datetime,
    rng: random.Random,
    catalog: PriceCatalog,
) -> None:
    """A batch job stuck in a retry loop: `count` gpt-4o requests in the last RUNAWAY_SPAN."""
    gpt_4o = MODELS[0]
    owner = members[0]
    writer = _BatchWriter()
    for _ in range(count):
        timestamp = end - RUNAWAY_SPAN * rng.random()
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        await writer.add(
            _record(org, batch.key.id, owner.id, timestamp, gpt_4o, status, rng, catalog)
        )
    await writer.flush()


async def _alert_rules(org: Organization, keys: list[DemoKey]) -> None:
    """The rules Acme's Admins set up: UNUSUAL_ACTIVITY on the batch key a day after creating
    it (the one the runaway trips), an ERROR_RATE spike on production with a webhook, and a
    daily spend threshold (AlertRule 1, 2 and 3, which the docs' examples use)."""
    by_label = {k.key.label: k.key for k in keys}
    batch = by_label[RUNAWAY_KEY]
    await AlertRule.create(
        organization=org,
        kind=AlertKind.UNUSUAL_ACTIVITY,
        api_key=batch,
        threshold_bps=RUNAWAY_RULE_FACTOR_BPS,
        window_minutes=60,
        min_requests=50,
        created_at=batch.created_at + timedelta(days=1),
    )
    production = by_label["Production backend"]
    await AlertRule.create(
        organization=org,
        kind=AlertKind.ERROR_RATE,
        api_key=production,
        threshold_bps=2000,
        window_minutes=15,
        min_requests=50,
        # example.com is reserved (RFC 2606): a delivery there never reaches anyone.
        webhook_url="https://hooks.example.com/aize",
        webhook_secret=generate_secret(),
        created_at=production.created_at + timedelta(days=2),
    )
    await AlertRule.create(
        organization=org,
        kind=AlertKind.DAILY_SPEND,
        threshold_nanos=usd_to_nanos("250"),
        created_at=production.created_at + timedelta(days=2),
    )


async def _weekly_report(org: Organization, end: datetime) -> None:
    """Last week's report, as the scheduler would have stored it."""
    tz = ZoneInfo(org.timezone)
    kind = ReportKind.WEEKLY
    week = previous_period(kind, period_containing(kind, end, tz), tz)
    await produce_report(org, kind, week, end)


class _BatchWriter:
    """Writes records through the ingest writer in batches of 2000."""

    def __init__(self) -> None:
        self.batch: list[PricedRecord] = []

    async def add(self, record: PricedRecord) -> None:
        self.batch.append(record)
        if len(self.batch) >= 2000:
            await self.flush()

    async def flush(self) -> None:
        if self.batch:
            await write_records(self.batch)
            self.batch = []


def _record(
    org: Organization,
    api_key_id: int,
    member_id: int,
    timestamp: datetime,
    model: tuple[str, str, int, int, int],
    status_row: tuple[int, int, str | None],
    rng: random.Random,
    catalog: PriceCatalog,
) -> PricedRecord:
    alias, provider_model, tin, tout, latency = model
    status, _, message = status_row
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
    priced = request_cost(
        usage=TokenUsage(input_tokens, output_tokens),
        status_code=status,
        price=price,
        provider_cost=None,
        markup_bps=org.markup_bps,
        fixed_fee_nanos=org.fixed_fee_nanos,
    )
    cost, parts = priced or (CostBreakdown(0, 0, 0, 0), ClassCosts())
    request_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    tags, end_user = _attribution(request_id)
    return PricedRecord(
        request_id=request_id,
        organization_id=org.id,
        api_key_id=api_key_id,
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
        provider=resolve_provider(catalog, None, provider_model, alias),
        error_message=message,
        metadata={
            "temperature": rng.choice([0, 0.2, 0.7, 1]),
            "max_tokens": rng.choice([256, 512, 1024, 4096]),
            "stream": rng.random() < 0.4,
        },
        input_cost_nanos=parts.input,
        output_cost_nanos=parts.output,
        tags=tags,
        end_user=end_user,
    )


DEMO_FEATURES = ("feature:chat", "feature:search", "feature:summarize")
DEMO_CUSTOMERS = ("customer:acme", "customer:globex", "customer:initech")


def _attribution(request_id: uuid.UUID) -> tuple[tuple[str, ...], str | None]:
    """A demo request's tags (a feature on most, a customer on half) and end user, drawn
    from its own id so the other columns keep the demo's random stream."""
    pick = random.Random(request_id.int)
    tags = set()
    if pick.random() < 0.85:
        tags.add(pick.choice(DEMO_FEATURES))
    if pick.random() < 0.5:
        tags.add(pick.choice(DEMO_CUSTOMERS))
    end_user = f"user-{pick.randrange(40)}" if pick.random() < 0.7 else None
    return tuple(sorted(tags)), end_user
