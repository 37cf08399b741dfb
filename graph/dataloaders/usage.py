"""UsageBySubjectLoader: per-key and per-member usage, batched into ONE grouped rollup query
per distinct filter for every ApiKey.usage / Member.usage field of a request.

The loader also fixes the request's "now" and loads the organization once, so every field
of a request resolves relative periods (LAST_7_DAYS...) identically and can share a batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aiodataloader import DataLoader

from graph.inputs.filters import UsageFilter, to_log_filter
from models.organization import Organization
from resolvers.scope import LogFilter, Scope
from resolvers.usage_dimensions import UsageDimension
from resolvers.usage_summary import SubjectUsage, usage_by_subject


@dataclass(frozen=True, slots=True)
class UsageSubjectKey:
    """Whose usage (API_KEY or MEMBER and its id) under which filter."""

    subject: UsageDimension
    subject_id: int
    log_filter: LogFilter


class UsageBySubjectLoader(DataLoader[UsageSubjectKey, SubjectUsage]):
    def __init__(self, scope: Scope, now: datetime | None = None) -> None:
        super().__init__()
        self.scope = scope
        self.now = now or datetime.now(UTC)
        self._organization: asyncio.Future[Organization] | None = None

    async def organization(self) -> Organization:
        """The viewer's organization, fetched once per request."""
        if self._organization is None:
            self._organization = asyncio.ensure_future(
                Organization.get(id=self.scope.organization_id)
            )
        return await self._organization

    def prime_organization(self, org: Organization) -> None:
        """Use an already loaded organization instead of fetching it."""
        if self._organization is None and org.id == self.scope.organization_id:
            self._organization = asyncio.get_running_loop().create_future()
            self._organization.set_result(org)

    async def log_filter(self, usage_filter: UsageFilter | None) -> LogFilter:
        """The filter resolved against the request's fixed now and the org's timezone;
        raises BadUserInputError naming a bad argument."""
        return to_log_filter(usage_filter, await self.organization(), self.now)

    # aiodataloader raises an Exception entry from its key's load(), hence the wider type.
    async def batch_load_fn(  # type: ignore[override]
        self, keys: Sequence[UsageSubjectKey]
    ) -> list[SubjectUsage | BaseException]:
        batches: dict[tuple[UsageDimension, LogFilter], list[int]] = {}
        for key in keys:
            batches.setdefault((key.subject, key.log_filter), []).append(key.subject_id)
        found: dict[tuple[UsageDimension, LogFilter], dict[int, SubjectUsage] | Exception] = {}
        for (subject, log_filter), ids in batches.items():
            try:
                found[(subject, log_filter)] = await usage_by_subject(
                    self.scope, log_filter, subject, ids
                )
            # Handed to the keys of this batch only, so one refused filter fails just its fields.
            except Exception as error:
                found[(subject, log_filter)] = error
        results: list[SubjectUsage | BaseException] = []
        for key in keys:
            usage = found[(key.subject, key.log_filter)]
            results.append(usage if isinstance(usage, Exception) else usage[key.subject_id])
        return results
