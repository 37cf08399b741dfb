"""Per-request context: the viewer, their scope, and dataloaders made for this request only."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info as StrawberryInfo

from auth.viewer import Viewer
from graph.dataloaders import Loaders
from graph.limits import CostReport
from resolvers.scope import Scope


@dataclass
class Context:
    request: Request
    response: Response | None
    viewer: Viewer
    # Loaders are per request: a cache shared across requests would leak between viewers.
    loaders: Loaders = field(init=False)
    # Filled in by the query-cost and rate-limit extensions; reported in extensions.cost.
    cost: CostReport = field(init=False, default_factory=CostReport)

    def __post_init__(self) -> None:
        self.loaders = Loaders(lambda: self.scope, self.viewer.organization)

    @cached_property
    def scope(self) -> Scope:
        """The viewer's read scope; raises ForbiddenError for ingest-only tokens."""
        return Scope.for_viewer(self.viewer)


Info = StrawberryInfo[Context, None]
