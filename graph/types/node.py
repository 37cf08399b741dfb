"""The Relay Node interface; ids are global and tenant-scoped."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with a global id, fetchable with Query.node.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="The object's global id: opaque, stable, unique across types."
    )
