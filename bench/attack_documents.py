"""The noisy neighbour's attack: the cheap requests of issue 12 that each made the service
work for seconds, as HTTP requests.

- `trend by endpoint` / `trend by model`: a 60-day HOUR trend split by ENDPOINT (or MODEL),
  limit 100, every series' buckets with start, end and all 17 measures;
- `trend export`: the same trend as GET /export/usage/trend.csv;
- `introspection`: `__schema` with 15 aliased `types` lists, each with fields, args, types;
- `10 MB literal`: a 10 MB string literal in `usage(filter: {models: [...]})`, a distinct
  one each time so the document cache never answers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

import orjson

ATTACK_DAYS = 60
# Every measure of CostSummary: what the trend documents select.
MEASURES = (
    "requests successful failed clientErrors serverErrors successRate errorRate "
    "inputTokens outputTokens totalTokens providerCost markup fixedFees customerCost "
    "averageCostPerRequest averageLatencyMs unpricedRequests"
)
INTROSPECTION_ALIASES = 15
LITERAL_BYTES = 10_000_000
# Digits of the request's serial number that start each literal (makes it distinct).
_SERIAL_DIGITS = 12


@dataclass(frozen=True, slots=True)
class AttackDocument:
    """One attack request: `body` is sent as is, unless `literal_bytes` asks for a new
    distinct literal of that many characters in every request."""

    name: str
    method: str
    path: str
    body: bytes = b""
    literal_bytes: int = 0

    def body_for(self, serial: int) -> bytes:
        """The request body for the `serial`-th request (unique serials give unique
        literals)."""
        if self.literal_bytes:
            return literal_body(serial, self.literal_bytes)
        return self.body


def attack_window(data_end: datetime) -> tuple[datetime, datetime]:
    """The attack's range [start, end): the `ATTACK_DAYS` days before the data's end."""
    return data_end - timedelta(days=ATTACK_DAYS), data_end


def trend_document(start: datetime, end: datetime, split_by: str) -> str:
    """The hourly trend over [start, end) split by `split_by` (ENDPOINT or MODEL), limit 100,
    every bucket's start, end and 17 measures."""
    dimension = split_by.lower()
    return (
        f'{{ organization {{ usage(filter: {{from: "{start.isoformat()}", '
        f'to: "{end.isoformat()}"}}) {{ trend(granularity: HOUR, splitBy: {split_by}, '
        f"limit: 100) {{ series {{ {dimension} buckets {{ start end totals {{ {MEASURES} }} "
        "} } } } } }"
    )


def introspection_document(aliases: int = INTROSPECTION_ALIASES) -> str:
    """`__schema` with `aliases` aliased copies of every type's fields, args and types."""
    lists = " ".join(
        f"a{i}: types {{ name fields {{ name args {{ name }} type {{ name }} }} }}"
        for i in range(aliases)
    )
    return f"{{ __schema {{ {lists} }} }}"


def literal_body(serial: int, size: int = LITERAL_BYTES) -> bytes:
    """A /graphql body whose models filter holds one string literal of `size` characters,
    starting with the serial number so that each serial gives a distinct document."""
    literal = f"{serial:0{_SERIAL_DIGITS}d}" + "A" * max(0, size - _SERIAL_DIGITS)
    query = (
        f'{{ organization {{ usage(filter: {{models: ["{literal}"]}}) '
        "{ totals { requests } } } }"
    )
    return orjson.dumps({"query": query})


def trend_export_path(start: datetime, end: datetime) -> str:
    """GET path of the hourly trend export over [start, end) split by ENDPOINT, limit 100."""
    parameters = {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "granularity": "HOUR",
        "splitBy": "ENDPOINT",
        "limit": "100",
    }
    return f"/export/usage/trend.csv?{urlencode(parameters)}"


def attack_documents(start: datetime, end: datetime) -> list[AttackDocument]:
    """The five attack requests of issue 12 over [start, end), in the order clients cycle."""

    def graphql(query: str) -> bytes:
        return orjson.dumps({"query": query})

    return [
        AttackDocument(
            "trend by endpoint", "POST", "/graphql", graphql(trend_document(start, end, "ENDPOINT"))
        ),
        AttackDocument(
            "trend by model", "POST", "/graphql", graphql(trend_document(start, end, "MODEL"))
        ),
        AttackDocument("trend export", "GET", trend_export_path(start, end)),
        AttackDocument("introspection", "POST", "/graphql", graphql(introspection_document())),
        AttackDocument("10 MB literal", "POST", "/graphql", literal_bytes=LITERAL_BYTES),
    ]
