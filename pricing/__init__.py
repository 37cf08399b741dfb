"""Exact pricing of gateway requests: money in integer nano-USD, never float."""

from pricing.catalog import (
    ModelPrice,
    PriceCatalog,
    dump_catalog,
    load_default_catalog,
    parse_catalog,
)
from pricing.cost import (
    CostBreakdown,
    basis_points_to_percent,
    customer_cost,
    percent_to_basis_points,
    provider_cost_nanos,
)
from pricing.money import (
    NANOS_PER_USD,
    UsdDecimal,
    format_usd,
    nanos_to_usd,
    round_half_even_div,
    to_scaled_int,
    usd_to_nanos,
)

__all__ = [
    "NANOS_PER_USD",
    "CostBreakdown",
    "ModelPrice",
    "PriceCatalog",
    "UsdDecimal",
    "basis_points_to_percent",
    "customer_cost",
    "dump_catalog",
    "format_usd",
    "load_default_catalog",
    "nanos_to_usd",
    "parse_catalog",
    "percent_to_basis_points",
    "provider_cost_nanos",
    "round_half_even_div",
    "to_scaled_int",
    "usd_to_nanos",
]
