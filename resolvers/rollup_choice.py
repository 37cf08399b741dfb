"""Which rollup family answers a question: the smallest one that has every dimension the
question filters or groups on.

A Member's scope is a filter on member_id (their rows only), and so is "My Logs Only". The
families are listed smallest first (models.rollup.USAGE_FAMILIES,
models.latency_rollup.LATENCY_FAMILIES); the last of each list has every dimension.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from models.rollup import RollupFamily
from resolvers.scope import LogFilter, Scope


def filtered_columns(scope: Scope, log_filter: LogFilter | None) -> set[str]:
    """The rollup columns the scope and filter put conditions on."""
    columns: set[str] = set()
    if scope.member_id is not None:
        columns.add("member_id")
    if log_filter is None:
        return columns
    if log_filter.only_mine:
        columns.add("member_id")
    if log_filter.models is not None:
        columns.add("model")
    if log_filter.api_key_ids is not None:
        columns.add("api_key_id")
    if log_filter.member_ids is not None:
        columns.add("member_id")
    if log_filter.status_codes is not None or log_filter.status_classes is not None:
        columns.add("status_code")
    if log_filter.endpoints is not None:
        columns.add("endpoint")
    if log_filter.providers is not None:
        columns.add("provider")
    if log_filter.provider_models is not None:
        columns.add("provider_model")
    if log_filter.filters_tags:
        columns.add("tag")
    if log_filter.end_users is not None:
        columns.add("end_user")
    # Columns no rollup family has: a question with a threshold finds no family.
    return columns | log_filter.threshold_columns


def smallest_family(
    families: Sequence[RollupFamily], columns: Iterable[str]
) -> RollupFamily | None:
    """The first family (smallest first) having every column, or None when none has."""
    needed = set(columns)
    for family in families:
        if needed <= set(family.dimensions):
            return family
    return None
