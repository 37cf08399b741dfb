"""Does the service answer what the raw SQL answers? Exactly for counts, tokens and money;
within the stated bound for histogram percentiles."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bench.dashboard_queries import DashboardAnswer, LogRow

_SHOWN = 5


def _mapping_differences(
    name: str, service: Mapping[Any, object], reference: Mapping[Any, object]
) -> list[str]:
    problems = [
        f"{name}[{key}]: service {service.get(key)!r}, raw SQL {reference.get(key)!r}"
        for key in sorted(set(service) | set(reference), key=str)
        if service.get(key) != reference.get(key)
    ]
    if len(problems) > _SHOWN:
        return [*problems[:_SHOWN], f"{name}: {len(problems) - _SHOWN} more differences"]
    return problems


def percentile_within_bound(service_ms: int, exact_ms: int, bound: Decimal) -> bool:
    """|service - exact| <= exact x bound (bound 0: equal)."""
    return abs(Decimal(service_ms) - Decimal(exact_ms)) <= Decimal(exact_ms) * bound


def dashboard_differences(service: DashboardAnswer, reference: DashboardAnswer) -> list[str]:
    """Every way the service's dashboard differs from the reference (empty: they agree)."""
    problems = _mapping_differences("totals", service.totals, reference.totals)
    problems += _mapping_differences("trend", service.trend, reference.trend)
    problems += _mapping_differences("trend buckets", service.trend_totals, reference.trend_totals)
    if service.top_keys != reference.top_keys:
        problems.append(
            f"top keys: service {service.top_keys[:3]}..., raw SQL {reference.top_keys[:3]}..."
        )
    if service.latency_requests != reference.latency_requests:
        problems.append(
            f"latency requests: service {service.latency_requests}, "
            f"raw SQL {reference.latency_requests}"
        )
    bound = service.max_relative_error if service.latency_method == "APPROXIMATE" else Decimal(0)
    for p, exact in reference.percentiles.items():
        reported = service.percentiles.get(p)
        if reported is None or not percentile_within_bound(reported, exact, bound):
            problems.append(
                f"p{p}: service {reported} ms ({service.latency_method}), raw SQL {exact} ms, "
                f"allowed relative error {bound}"
            )
    return problems


def log_page_differences(service: list[LogRow], reference: list[LogRow]) -> list[str]:
    """Every way the service's log page differs from the reference (empty: they agree)."""
    if len(service) != len(reference):
        return [f"log page: service {len(service)} rows, raw SQL {len(reference)} rows"]
    problems = [
        f"log row {i}: service {s}, raw SQL {r}"
        for i, (s, r) in enumerate(zip(service, reference, strict=True))
        if s != r
    ]
    return problems[:_SHOWN]
