"""Dataloaders, created per request and memoized on the request's Context."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property

from graph.dataloaders.alert_delivery import DeliveriesByEventIdLoader
from graph.dataloaders.api_key import ApiKeyByIdLoader
from graph.dataloaders.limit_request import PendingLimitRequestByApiKeyIdLoader
from graph.dataloaders.member import MemberByIdLoader
from graph.dataloaders.usage import UsageBySubjectLoader
from models.organization import Organization
from resolvers.scope import Scope


class Loaders:
    """Lazily builds each loader on first use, inside the request's event loop."""

    def __init__(
        self,
        scope: Callable[[], Scope],
        organization: Organization | None = None,
        now: datetime | None = None,
    ) -> None:
        self._scope = scope
        self._now = now
        # The viewer's organization as authentication read it, if it did.
        self._organization = organization

    @cached_property
    def api_key_by_id(self) -> ApiKeyByIdLoader:
        return ApiKeyByIdLoader(self._scope())

    @cached_property
    def deliveries_by_event_id(self) -> DeliveriesByEventIdLoader:
        return DeliveriesByEventIdLoader(self._scope())

    @cached_property
    def pending_limit_request_by_api_key_id(self) -> PendingLimitRequestByApiKeyIdLoader:
        return PendingLimitRequestByApiKeyIdLoader(self._scope())

    @cached_property
    def member_by_id(self) -> MemberByIdLoader:
        return MemberByIdLoader(self._scope())

    @cached_property
    def usage_by_subject(self) -> UsageBySubjectLoader:
        loader = UsageBySubjectLoader(self._scope(), self._now)
        if self._organization is not None:
            loader.prime_organization(self._organization)
        return loader
