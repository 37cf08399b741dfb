"""Per-key and per-member usage: totals and the models used, for many subjects at once in
one grouped rollup read (what the seed's "Per-Member Usage" and "Per-Key Analytics" show)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from resolvers.rollup_reader import read_usage
from resolvers.scope import LogFilter, Scope, check_filter
from resolvers.time_slices import decompose
from resolvers.usage_dimensions import UsageDimension
from resolvers.usage_measures import UsageMeasures

SUBJECTS = (UsageDimension.API_KEY, UsageDimension.MEMBER)


@dataclass(slots=True)
class SubjectUsage:
    """One key's or member's usage; `models` maps alias -> requests."""

    totals: UsageMeasures = field(default_factory=UsageMeasures)
    models: dict[str, int] = field(default_factory=dict)

    def models_used(self) -> list[str]:
        """Model aliases used, most requests first, ties by alias."""
        return [m for m, _ in sorted(self.models.items(), key=lambda item: (-item[1], item[0]))]


async def usage_by_subject(
    scope: Scope, log_filter: LogFilter, subject: UsageDimension, ids: Sequence[int]
) -> dict[int, SubjectUsage]:
    """Usage of each key (subject API_KEY) or member (MEMBER) in `ids` under the filter,
    within the viewer's scope (a Member's figures cover only their own requests).

    Every id gets an entry (zero when unused). The filter's own key/member lists still apply:
    a subject outside them gets zero. Raises ForbiddenError when the filter names other
    members for a Member viewer.
    """
    if subject not in SUBJECTS:
        raise ValueError(f"usage summaries are per API_KEY or MEMBER, not {subject.name}")
    check_filter(scope, log_filter)
    usage = {subject_id: SubjectUsage() for subject_id in ids}
    requested = _intersect(ids, _ids_in_filter(log_filter, subject))
    if not requested:
        return usage
    narrowed = (
        replace(log_filter, api_key_ids=requested)
        if subject is UsageDimension.API_KEY
        else replace(log_filter, member_ids=requested)
    )
    [by_group] = await read_usage(
        scope,
        narrowed,
        [decompose(log_filter.time_range, signed=True)],
        (subject, UsageDimension.MODEL),
    )
    for (subject_id, model), totals in by_group.items():
        entry = usage[int(subject_id)]
        entry.totals.add(totals)
        entry.models[str(model)] = entry.models.get(str(model), 0) + totals.requests
    return usage


def _ids_in_filter(log_filter: LogFilter, subject: UsageDimension) -> tuple[int, ...] | None:
    if subject is UsageDimension.API_KEY:
        return log_filter.api_key_ids
    return log_filter.member_ids


def _intersect(ids: Sequence[int], allowed: tuple[int, ...] | None) -> tuple[int, ...]:
    unique = tuple(sorted(set(ids)))
    return unique if allowed is None else tuple(i for i in unique if i in allowed)
