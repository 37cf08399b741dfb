"""Token classes and cost classes (issue 14): request_log and every usage rollup table gain
cache read / cache write (5-minute, 1-hour) / reasoning tokens, request units, the provider
cost per class and the caching savings, all BIGINT NOT NULL DEFAULT 0, so every existing row
keeps its numbers and its new measures are 0; model_price gains class_prices (JSON, null =
input/output only). On PostgreSQL, ADD COLUMN on the partitioned request_log reaches every
partition."""

from copy import deepcopy
from typing import Any

from orjson import loads
from tortoise import fields, migrations
from tortoise.fields.data import JSON_DUMPS
from tortoise.migrations import operations as ops

from models.database import Dialect, dialect_of

# The columns every table below gains, in order (models/request_log.py CLASS_COLUMNS,
# models/rollup.py CLASS_MEASURES), spelled out: a migration must not change with the models.
CLASS_COLUMNS = (
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
    "request_units",
    "input_cost_nanos",
    "cache_read_cost_nanos",
    "cache_write_cost_nanos",
    "output_cost_nanos",
    "reasoning_cost_nanos",
    "request_cost_nanos",
    "cache_savings_nanos",
)
# (model, table): request_log and every usage rollup and cube table.
TABLES = (
    ("RequestLog", "request_log"),
    *(
        (f"{model}{grain.title()}", f"{table}_{grain}")
        for model, table in (
            ("UsageRollup", "usage_rollup"),
            ("UsageCubeModel", "usage_cube_model"),
            ("UsageCubeModelStatus", "usage_cube_model_status"),
            ("UsageCubeKey", "usage_cube_key"),
            ("UsageCubeMember", "usage_cube_member"),
        )
        for grain in ("quarter", "hour", "day")
    ),
)


class AddClassColumns(ops.AddField):
    """Every class column of one model at once: one state change and, on PostgreSQL, one
    ALTER TABLE per table (on the partitioned request_log it reaches every partition).
    One AddField per column took 192 state changes, each cloning the migration state, and
    192 ALTER TABLEs: over a minute on a loaded 2-core machine. Subclasses tortoise's
    AddField (public operation API), like 0013's DescriptionOnly."""

    def __init__(self, model_name: str, table: str) -> None:
        super().__init__(model_name, CLASS_COLUMNS[0], _column())
        self.table = table

    def describe(self) -> str:
        return f"Add the token and cost class columns to {self.model_name}"

    def state_forward(self, app_label: str, state: Any) -> None:
        model_state = self.get_model_state(state, app_label, self.model_name)
        for name in CLASS_COLUMNS:
            model_state.fields[name] = deepcopy(_column())
        state.reload_models({(app_label, self.model_name)})

    async def database_forward(self, app_label: str, old_state: Any, new_state: Any,
                               state_editor: Any = None) -> None:
        if state_editor is None:
            return
        conn = state_editor.client
        clauses = [f"ADD COLUMN {name} BIGINT NOT NULL DEFAULT 0" for name in CLASS_COLUMNS]
        if dialect_of(conn) is Dialect.SQLITE:  # one column per ALTER TABLE there
            for clause in clauses:
                await conn.execute_script(f"ALTER TABLE {self.table} {clause}")
        else:
            await conn.execute_script(f"ALTER TABLE {self.table} {', '.join(clauses)}")

    async def database_backward(self, app_label: str, old_state: Any, new_state: Any,
                                state_editor: Any = None) -> None:
        if state_editor is None:
            return
        for name in CLASS_COLUMNS:
            await state_editor.client.execute_script(
                f"ALTER TABLE {self.table} DROP COLUMN {name}"
            )


def _column() -> fields.BigIntField:
    return fields.BigIntField(default=0, db_default=0)


class Migration(migrations.Migration):
    dependencies = [("models", "0016_request_provider")]

    initial = False

    operations = [
        ops.AddField(
            model_name="ModelPrice",
            name="class_prices",
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        *(AddClassColumns(model, table) for model, table in TABLES),
    ]
