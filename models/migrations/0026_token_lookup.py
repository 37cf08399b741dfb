"""Tokens found through a lookup table: `access_token_lookup (token_hash primary key,
organization_id)`, and access_token unique by (organization_id, token_hash) instead of by
token_hash alone (docs/SCALING.md, "What Citus needs").

Authentication reads the hash's organization in the lookup table first, then the token, its
member and its organization filtered by it (auth/tokens.py). In Citus the lookup is a
reference table (copied to every node) and the second read runs on one shard; here it is
one more primary-key read per request. issue_token writes both rows in one transaction; the
lookup table's key keeps a hash unique across organizations, as access_token's own key did.

- Both backends: the table is created and filled from the tokens stored before (revoked ones
  too: a revoked token must still be recognised, and refused as revoked).
- PostgreSQL: access_token's UNIQUE (token_hash) becomes UNIQUE (organization_id,
  token_hash), and access_token.token_hash references the lookup table (a foreign key from a
  distributed table to a reference table, which Citus accepts): no token without its row.
- SQLite: the unique index on (organization_id, token_hash) is added; the column's own
  UNIQUE (part of the table's definition since 0001) is kept, as 0024 kept SQLite's keys
  (one database, nothing to distribute); the lookup table's key says the same thing.

The ORM's state records the same keys (the model declares them, the database changes are
made here by hand as 0024 and 0025 made theirs).

Back: the lookup table is dropped and UNIQUE (token_hash) restored (the lookup table's key
guaranteed it holds).
"""

from typing import Any

from tortoise import fields, migrations
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from models.database import Dialect, dialect_of

_TOKENS = "access_token"
_LOOKUP = "access_token_lookup"
_BY_ORGANIZATION = f"{_TOKENS}_organization_id_token_hash_key"
_BY_HASH = f"{_TOKENS}_token_hash_key"
_REFERENCE = f"{_TOKENS}_token_hash_fkey"


async def _unique_constraints(conn: BaseDBAsyncClient) -> dict[str, str]:
    rows = await conn.execute_query_dict(
        "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
        "WHERE conrelid = $1::regclass AND contype = 'u'",
        [_TOKENS],
    )
    return {row["definition"]: row["conname"] for row in rows}


async def fill_and_key_by_organization(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    await conn.execute_script(
        f"INSERT INTO {_LOOKUP} (token_hash, organization_id) "
        f"SELECT token_hash, organization_id FROM {_TOKENS}"
    )
    if dialect_of(conn) is Dialect.SQLITE:
        await conn.execute_script(
            f'CREATE UNIQUE INDEX "{_BY_ORGANIZATION}" ON {_TOKENS} (organization_id, token_hash)'
        )
        return
    by_hash = (await _unique_constraints(conn))["UNIQUE (token_hash)"]
    await conn.execute_script(
        f'ALTER TABLE {_TOKENS} DROP CONSTRAINT "{by_hash}", '
        f"ADD CONSTRAINT {_BY_ORGANIZATION} UNIQUE (organization_id, token_hash), "
        f"ADD CONSTRAINT {_REFERENCE} FOREIGN KEY (token_hash) REFERENCES {_LOOKUP} (token_hash)"
    )


async def key_by_hash(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    if dialect_of(conn) is Dialect.SQLITE:
        await conn.execute_script(f'DROP INDEX "{_BY_ORGANIZATION}"')
        return
    await conn.execute_script(
        f"ALTER TABLE {_TOKENS} DROP CONSTRAINT {_REFERENCE}, "
        f"DROP CONSTRAINT {_BY_ORGANIZATION}, "
        f"ADD CONSTRAINT {_BY_HASH} UNIQUE (token_hash)"
    )


class _StateOnly(ops.AlterField):
    """The field's new declaration for the ORM's state only: the database change is made by
    hand above (on SQLite the column's UNIQUE stays)."""

    async def database_forward(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def database_backward(self, *args: Any, **kwargs: Any) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [("models", "0025_request_ids_by_organization")]

    initial = False

    operations = [
        ops.CreateModel(
            name="AccessTokenLookup",
            fields=[
                ("token_hash", fields.CharField(primary_key=True, max_length=64)),
                ("organization_id", fields.IntField()),
            ],
            options={
                "table": _LOOKUP,
                "app": "models",
                "pk_attr": "token_hash",
                "table_description": "Which organization a token hash belongs to: read first to authenticate",
            },
            bases=["Model"],
        ),
        ops.RunPython(fill_and_key_by_organization, key_by_hash),
        _StateOnly(
            model_name="AccessToken",
            name="token_hash",
            field=fields.CharField(max_length=64),
        ),
        ops.AlterModelOptions(
            name="AccessToken",
            options={
                "table": _TOKENS,
                "app": "models",
                "unique_together": (("organization", "token_hash"),),
                "pk_attr": "id",
            },
        ),
    ]
