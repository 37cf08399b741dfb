"""Which reads may go to a read replica, and what a read does when its replica is gone
(models/read_replicas.py). The replica here is a real client whose server refuses
connections (nothing listens on its port); tests/test_read_replicas.py has the real
streaming replica."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.transactions import in_transaction

from models import read_replicas
from models.database import Params, connection, current_dialect, fetch_all, fetch_rows
from models.read_replicas import (
    ReadReplicas,
    ReplicaClients,
    ReplicaState,
    replica_for_read,
    replica_reads,
)
from settings import Settings
from tests.factories import make_org
from tests.pg_cluster import free_port

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def unreachable_replica(db: Settings) -> Iterator[ReadReplicas]:
    """One configured replica, taken to be in use, whose server refuses connections."""
    port = free_port()

    def client(name: str) -> AsyncpgDBClient:
        return AsyncpgDBClient(
            connection_name=name,
            host="127.0.0.1",
            port=port,
            user="postgres",
            password=None,
            database="postgres",
            minsize=1,
            maxsize=2,
        )

    replica = ReplicaClients(f"127.0.0.1:{port}/postgres", client("read_1"), client("check"))
    replicas = ReadReplicas([replica], max_lag_seconds=5.0, check_seconds=3600)
    replicas.statuses[0].state = ReplicaState.IN_USE
    read_replicas.configure(replicas)
    try:
        yield replicas
    finally:
        read_replicas.configure(None)


async def test_reads_outside_a_query_stay_on_the_primary(
    unreachable_replica: ReadReplicas,
) -> None:
    assert replica_for_read(connection()) is None
    with replica_reads():
        assert replica_for_read(connection()) == "read_1"


async def test_reads_inside_a_transaction_stay_on_the_primary(
    unreachable_replica: ReadReplicas,
) -> None:
    with replica_reads():
        async with in_transaction() as conn:
            assert replica_for_read(conn) is None
            assert replica_for_read(connection()) is None


async def test_a_read_whose_replica_is_gone_is_answered_by_the_primary(
    unreachable_replica: ReadReplicas,
) -> None:
    org = await make_org(name="Fallback Co")
    params = Params(current_dialect())
    sql = f"SELECT name FROM organization WHERE id = {params.add(org.id)}"

    with replica_reads():
        rows = await fetch_rows(sql, params, may_lag=True)

    assert [row["name"] for row in rows] == ["Fallback Co"]
    status = unreachable_replica.statuses[0]
    assert status.state is ReplicaState.DOWN
    assert status.reason is not None
    # Skipped from now on: the next read does not try it.
    with replica_reads():
        assert replica_for_read(connection()) is None
        assert [r["name"] for r in await fetch_all(sql, params, may_lag=True)] == ["Fallback Co"]


async def test_a_check_marks_an_unreachable_replica_down(
    unreachable_replica: ReadReplicas,
) -> None:
    [status] = await unreachable_replica.check()
    assert (status.label, status.state, status.lag_seconds) == ("read_1", ReplicaState.DOWN, None)
    assert status.as_json()["state"] == "down"
