"""Skewed synthetic usage for the dashboard benchmark: a directory (organizations, members,
keys) and request-log rows as ingest writes them (ingestion/log_row.py), deterministic for a
seed.

Shape (the issue's): 50 organizations, one holding 40% of the rows, the rest sharing 60%
by a Zipf law; ~500 API keys and ~1000 members spread the same way (the big organization
has 200 keys and 400 members); a dozen models with their own prices and lognormal
latencies; ~95% 2xx; timestamps over `days` days ending at `end`, generated day by day in
time order (so request_log's time-leading indexes are appended to, as in production).
Request ids are time-ordered (UUIDv7 layout), like a gateway that issues UUIDv7.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from ingestion.log_row import log_row
from ingestion.providers import resolve_provider
from models.priced_record import PricedRecord
from pricing.catalog import load_default_catalog
from pricing.cost import customer_cost

ORGANIZATIONS = 50
BIG_SHARE = 0.4
KEYS = 500
MEMBERS = 1000
BIG_KEYS = 200
BIG_MEMBERS = 400
DAYS = 90
PERSONAL_KEY_SHARE = 0.8
TEAM_KEY_WITHOUT_MEMBER = 0.1
# Tags and end users (models/attribution.py): a feature tag on FEATURE_TAGGED of the
# requests, a customer tag (Zipf over CUSTOMERS) on CUSTOMER_TAGGED, an end user (one of
# END_USERS per organization) on END_USER_SHARE. Drawn from their own random stream, so the
# other columns are those of the data set without them.
FEATURES = ("chat", "search", "summarize", "extract", "translate", "classify", "agent", "code")
FEATURE_TAGGED = 0.8
CUSTOMERS = 200
CUSTOMER_TAGGED = 0.5
END_USERS = 5_000
END_USER_SHARE = 0.7


@dataclass(frozen=True, slots=True)
class ModelSpec:
    alias: str
    provider_model: str
    input_price_per_million_nanos: int
    output_price_per_million_nanos: int
    median_latency_ms: int
    weight: float


MODELS = (
    ModelSpec("gpt-4o-mini", "gpt-4o-mini-2024-07-18", 150_000_000, 600_000_000, 700, 24),
    ModelSpec("gpt-4o", "gpt-4o-2024-08-06", 2_500_000_000, 10_000_000_000, 1800, 18),
    ModelSpec("gpt-3.5-turbo", "gpt-3.5-turbo-0125", 500_000_000, 1_500_000_000, 600, 12),
    ModelSpec("gpt-4", "gpt-4-0613", 30_000_000_000, 60_000_000_000, 3500, 6),
    ModelSpec("gpt-4-turbo", "gpt-4-turbo-2024-04-09", 10_000_000_000, 30_000_000_000, 2800, 5),
    ModelSpec("o1-mini", "o1-mini-2024-09-12", 3_000_000_000, 12_000_000_000, 6000, 3),
    ModelSpec(
        "claude-3-5-sonnet", "claude-3-5-sonnet-20241022", 3_000_000_000, 15_000_000_000, 2000, 12
    ),
    ModelSpec("claude-3-haiku", "claude-3-haiku-20240307", 250_000_000, 1_250_000_000, 650, 8),
    ModelSpec("claude-3-opus", "claude-3-opus-20240229", 15_000_000_000, 75_000_000_000, 4200, 2),
    ModelSpec("gemini-1.5-flash", "gemini-1.5-flash-002", 75_000_000, 300_000_000, 550, 5),
    ModelSpec("gemini-1.5-pro", "gemini-1.5-pro-002", 1_250_000_000, 5_000_000_000, 2200, 3),
    ModelSpec("mistral-large", "mistral-large-2407", 2_000_000_000, 6_000_000_000, 1500, 2),
)
ENDPOINTS = (("/v1/chat/completions", 85), ("/v1/responses", 10), ("/v1/embeddings", 5))
# ~95% 2xx; the errors the product page names.
STATUSES = (
    (200, 9450),
    (201, 50),
    (400, 100),
    (401, 40),
    (402, 20),
    (403, 20),
    (429, 200),
    (500, 70),
    (503, 50),
)
ERROR_MESSAGES = {
    400: "Invalid request: 'max_tokens' must be at most 4096",
    401: "Invalid API key",
    402: "Insufficient balance",
    403: "Model not allowed for this key",
    429: "Rate limit exceeded, retry in 20s",
    500: "Internal server error",
    503: "Provider unavailable",
}
LATENCY_SIGMA = 0.6
TIMEZONES = ("UTC", "Europe/Berlin", "Asia/Kolkata", "America/Los_Angeles", "Asia/Tokyo")


@dataclass(frozen=True, slots=True)
class KeySpec:
    index: int  # within the organization
    owner: int | None  # member index within the organization (personal key) or None (team)


@dataclass(slots=True)
class OrgSpec:
    index: int
    name: str
    slug: str
    timezone: str
    markup_bps: int
    fixed_fee_nanos: int
    share: float  # of all rows
    members: int
    keys: list[KeySpec]
    # Filled by the loader once the directory is stored.
    organization_id: int = 0
    member_ids: list[int] = field(default_factory=list)
    key_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DataPlan:
    rows: int
    seed: int = 1
    days: int = DAYS
    end: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    big_org_timezone: str = "America/New_York"

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)


def _spread(total: int, weights: list[float], minimum: int) -> list[int]:
    """`total` split proportionally to `weights`, each at least `minimum` (sums to total)."""
    scale = sum(weights)
    counts = [max(minimum, round(total * w / scale)) for w in weights]
    counts[0] += total - sum(counts)
    return counts


def plan_directory(plan: DataPlan) -> list[OrgSpec]:
    """The organizations with their members and keys (index 0 is the big one)."""
    rng = random.Random(plan.seed)
    small = [1 / (i + 1) for i in range(ORGANIZATIONS - 1)]
    small_total = sum(small)
    shares = [BIG_SHARE] + [(1 - BIG_SHARE) * w / small_total for w in small]
    # Keys and members follow the square root of the share: small tenants still have a few.
    roots = [math.sqrt(s) for s in shares[1:]]
    key_counts = [BIG_KEYS, *_spread(KEYS - BIG_KEYS, roots, 2)]
    member_counts = [BIG_MEMBERS, *_spread(MEMBERS - BIG_MEMBERS, roots, 3)]
    orgs = []
    for index, share in enumerate(shares):
        members = member_counts[index]
        keys = []
        for key_index in range(key_counts[index]):
            personal = rng.random() < PERSONAL_KEY_SHARE
            keys.append(KeySpec(key_index, rng.randrange(members) if personal else None))
        orgs.append(
            OrgSpec(
                index=index,
                name="Big Tenant" if index == 0 else f"Tenant {index}",
                slug=f"bench-{index}",
                timezone=plan.big_org_timezone if index == 0 else TIMEZONES[index % 5],
                markup_bps=2500 if index % 3 == 0 else 1500,
                fixed_fee_nanos=1_000_000 if index % 2 == 0 else 0,
                share=share,
                members=members,
                keys=keys,
            )
        )
    return orgs


def _zipf_cumulative(count: int, exponent: float) -> list[float]:
    return list(accumulate(1 / (i + 1) ** exponent for i in range(count)))


def _uuid7(rng: random.Random, instant: datetime) -> uuid.UUID:
    millis = int(instant.timestamp() * 1000)
    value = (millis << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64)
    value |= (0b10 << 62) | rng.getrandbits(62)
    return uuid.UUID(int=value)


def generate_rows(
    plan: DataPlan,
    orgs: list[OrgSpec],
    ingested_at: datetime,
    days: Iterable[int] | None = None,
) -> Iterator[tuple[object, ...]]:
    """The rows of `days` (default: every day of the plan), in time order, as request_log's
    LOG_COLUMNS plus ingested_at (the organizations must carry their stored ids). Each day
    has its own random stream, so days can be generated by separate processes."""
    org_cumulative = list(accumulate(o.share for o in orgs))
    key_cumulative = [_zipf_cumulative(len(o.keys), 1.1) for o in orgs]
    model_cumulative = list(accumulate(m.weight for m in MODELS))
    endpoint_cumulative = list(accumulate(w for _, w in ENDPOINTS))
    status_cumulative = list(accumulate(w for _, w in STATUSES))
    metadata = [
        {"max_tokens": t, "stream": s, "temperature": 0.7}
        for t in (256, 1024, 4096)
        for s in (False, True)
    ]
    # Each model's provider as ingest decides it (ingestion.providers).
    catalog = load_default_catalog()
    providers = {
        m.alias: resolve_provider(catalog, None, m.provider_model, m.alias) for m in MODELS
    }
    seconds = plan.days * 86_400
    per_day = _spread(plan.rows, [1.0] * plan.days, 0)
    customer_cumulative = _zipf_cumulative(CUSTOMERS, 1.1)
    feature_tags = [f"feature:{name}" for name in FEATURES]
    customer_tags = [f"customer:{n}" for n in range(CUSTOMERS)]
    for day in range(plan.days) if days is None else days:
        count = per_day[day]
        rng = random.Random(f"{plan.seed}:{day}")
        tag_rng = random.Random(f"{plan.seed}:{day}:attribution")
        offsets = sorted(rng.random() for _ in range(count))
        org_picks = rng.choices(orgs, cum_weights=org_cumulative, k=count)
        models = rng.choices(MODELS, cum_weights=model_cumulative, k=count)
        endpoints = rng.choices(ENDPOINTS, cum_weights=endpoint_cumulative, k=count)
        statuses = rng.choices(STATUSES, cum_weights=status_cumulative, k=count)
        for i in range(count):
            org = org_picks[i]
            instant = plan.start + timedelta(seconds=(day + offsets[i]) * seconds / plan.days)
            key = rng.choices(org.keys, cum_weights=key_cumulative[org.index])[0]
            if key.owner is not None:
                member: int | None = org.member_ids[key.owner]
            elif rng.random() < TEAM_KEY_WITHOUT_MEMBER:
                member = None
            else:
                member = org.member_ids[rng.randrange(org.members)]
            model = models[i]
            status = statuses[i][0]
            ok = status < 300
            input_tokens = int(rng.lognormvariate(6.5, 0.9))
            output_tokens = int(rng.lognormvariate(5.5, 0.8)) if ok else 0
            # Failed calls answer fast; successful ones around the model's median.
            median = model.median_latency_ms if ok else 60
            latency = max(1, int(rng.lognormvariate(math.log(median), LATENCY_SIGMA)))
            provider = 0
            if status != 402 and status != 401:
                numerator = (
                    input_tokens * model.input_price_per_million_nanos
                    + output_tokens * model.output_price_per_million_nanos
                )
                provider = (numerator + 500_000) // 1_000_000
            cost = customer_cost(provider, org.markup_bps, org.fixed_fee_nanos)
            tags: list[str] = []
            if tag_rng.random() < FEATURE_TAGGED:
                tags.append(feature_tags[tag_rng.randrange(len(FEATURES))])
            if tag_rng.random() < CUSTOMER_TAGGED:
                customer = tag_rng.choices(customer_tags, cum_weights=customer_cumulative)[0]
                tags.append(customer)
            end_user = (
                f"user-{tag_rng.randrange(END_USERS)}"
                if tag_rng.random() < END_USER_SHARE
                else None
            )
            # As ingest writes it (ingestion/log_row.py): no token or cost classes, as for
            # a gateway-priced log.
            record = PricedRecord(
                request_id=_uuid7(rng, instant),
                organization_id=org.organization_id,
                api_key_id=org.key_ids[key.index],
                member_id=member,
                timestamp=instant,
                model=model.alias,
                provider_model=model.provider_model,
                endpoint=endpoints[i][0],
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                provider_cost_nanos=cost.provider_cost_nanos,
                markup_nanos=cost.markup_nanos,
                fixed_fee_nanos=cost.fixed_fee_nanos,
                customer_cost_nanos=cost.customer_cost_nanos,
                priced=True,
                latency_ms=latency,
                status_code=status,
                provider=providers[model.alias],
                error_message=None if ok else ERROR_MESSAGES[status],
                metadata=metadata[i % len(metadata)],
                tags=tuple(sorted(tags)),
                end_user=end_user,
            )
            yield (*log_row(record), ingested_at)
