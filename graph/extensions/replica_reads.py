"""Let a query operation's analytics reads go to a read replica (AIZE_DATABASE_READ_URLS).

Only queries: a mutation reads back what it wrote, so all of it stays on the primary. Within
a query, only reads whose data may lag (rollups, request logs, percentiles, errors: the
`may_lag` reads of models/database.py) can go to a replica; keys, members, settings,
spend counters and `keyAccess` always read the primary (models/read_replicas.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from models.read_replicas import replica_reads


class ReplicaReads(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        if self.execution_context.operation_type is not OperationType.QUERY:
            yield
            return
        # Set before RequestTimeout's deadline and graphql-core's tasks: they inherit it.
        with replica_reads():
            yield
