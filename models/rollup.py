"""Pre-aggregated usage, maintained at ingest in the same transaction as the raw log.

Three UTC grains: a QUARTER (15 minutes), an HOUR and a DAY. Every timezone offset in use is a
multiple of 15 minutes, so any local bucket (a day in Asia/Kathmandu, an hour in
Asia/Kolkata) is an exact union of rollup rows; coarser grains make long ranges cheap.
Dimensions are plain integers/strings (member_id 0 = no member) so the unique key can serve
as the upsert target on both SQLite and PostgreSQL.

The full rollup also carries the provider (OpenAI, Anthropic, ...) stored on each log; no
cube has it, so a question on providers reads the full rollup.

Besides the full rollup (every dimension), narrower "cubes" keep the same measures projected
onto fewer dimensions: (model), (model, status_code), (api_key_id) and (member_id). A big tenant's
full DAY rollup holds thousands of rows per day (keys x models x statuses); a cube holds a
few hundred, so a question that groups or filters only on a cube's dimensions reads far
fewer rows. Each family is described by a `RollupFamily` (its dimensions, measures and one
table per grain it keeps); ingest and reads both go through those descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tortoise import fields
from tortoise.models import Model

from models.request_log_columns import CLASS_COLUMNS

DIMENSION_COLUMNS = (
    "api_key_id",
    "member_id",
    "model",
    "provider_model",
    "endpoint",
    "status_code",
    "provider",
)
MEASURE_COLUMNS = (
    "requests",
    "successful",
    "client_errors",
    "server_errors",
    "unpriced",
    "input_tokens",
    "output_tokens",
    "provider_cost_nanos",
    "markup_nanos",
    "fixed_fee_nanos",
    "customer_cost_nanos",
    "latency_ms_sum",
    # Token classes and cost classes (migration 0017), summed from request_log's columns of
    # the same names: the cache counts are part of input_tokens, reasoning_tokens of
    # output_tokens; the cost parts sum to the catalog-priced part of provider_cost_nanos;
    # cache_savings_nanos is signed.
    *CLASS_COLUMNS,
)
CLASS_MEASURES = CLASS_COLUMNS
# UTC grains, finest first; a rollup table exists per family and grain.
GRAIN_WIDTHS: dict[str, timedelta] = {
    "quarter": timedelta(minutes=15),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}


@dataclass(frozen=True, slots=True)
class RollupFamily:
    """One set of rollup tables: the same dimensions and measures at every grain.

    Tables are named `{name}_{grain}`; the unique key (and upsert target) is
    (organization_id, bucket_start, *dimensions).
    """

    name: str
    dimensions: tuple[str, ...]
    measures: tuple[str, ...] = MEASURE_COLUMNS
    # The grains kept, finest first (a subset of GRAIN_WIDTHS).
    grains: tuple[str, ...] = tuple(GRAIN_WIDTHS)

    def table(self, grain: str) -> str:
        """The table holding this family at `grain` ("quarter", "hour" or "day")."""
        if grain not in self.grains:
            raise ValueError(f"{self.name} has no {grain!r} grain")
        return f"{self.name}_{grain}"

    @property
    def key_columns(self) -> tuple[str, ...]:
        return ("organization_id", "bucket_start", *self.dimensions)


# Migration 0027 (docs/PERFORMANCE.md "Bytes per table (issue 17)"): a grain holding
# nearly as many rows as the raw log over the same time does not pay (reading it costs what
# reading the raw rows costs, while every folded request writes a row into it). The key
# and member cubes keep no QUARTER grain, the full rollup only DAY (its quarter and hour
# tables held 90% and 76% of the raw rows at 1M logs); those pieces of time are read from
# the raw rows (`rollup_reader.family_slices`). The (model) and (model, status code) cubes
# keep QUARTER: a few dozen rows a quarter per organization, what totals and model trends
# read for the sub-hour edges of a range and the HOUR buckets of +05:30 and +05:45 zones,
# and what retention's dropped months still answer from.
USAGE_FULL = RollupFamily("usage_rollup", DIMENSION_COLUMNS, grains=("day",))
USAGE_BY_MODEL = RollupFamily("usage_cube_model", ("model",))
USAGE_BY_MODEL_STATUS = RollupFamily("usage_cube_model_status", ("model", "status_code"))
USAGE_BY_KEY = RollupFamily("usage_cube_key", ("api_key_id",), grains=("hour", "day"))
USAGE_BY_MEMBER = RollupFamily("usage_cube_member", ("member_id",), grains=("hour", "day"))
# Attribution families (models.attribution): the measures per tag and per end user for the
# whole team (no member dimension). A request with two tags is a row in BOTH tag groups, so
# the tag family's rows do not add up to the total: it answers only questions grouped by TAG
# or filtered to one tag, never a plain total (that is why these two are not in
# USAGE_FAMILIES). Requests without tags are in tag "" (NO_TAG), without an end user in
# end_user "" (NO_END_USER).
# Their grains are fewer (migration 0020; docs/PERFORMANCE.md "Attribution rollups: size
# and write cost"): a grain with about as many rows as the raw log does not pay its disk
# and write cost: the reader reads those pieces of time from the raw rows instead
# (`rollup_reader.family_slices`). Tags keep HOUR (24-hour and day trends in zones with
# whole-hour offsets) and DAY; end users only DAY.
# No family has member_id besides a tag or an end user (migrations 0027 and 0028): per
# member, the tag and end-user families barely aggregated (the big tenant's 30 days at 10M
# logs: 794k member x end-user day rows for 1.33M requests, 3.5 GiB, the largest rollup).
# A Member's own tags and end users, and any tag or end-user question split or filtered by
# member, read the raw rows (exact; one member's rows come through request_log_org_mem_ts).
# Retention keeps no per-member tag or end-user figure of a month whose raw rows it dropped.
USAGE_BY_TEAM_TAG = RollupFamily("usage_cube_team_tag", ("tag",), grains=("hour", "day"))
USAGE_BY_TEAM_END_USER = RollupFamily("usage_cube_team_end_user", ("end_user",), grains=("day",))
ATTRIBUTION_FAMILIES = (USAGE_BY_TEAM_TAG, USAGE_BY_TEAM_END_USER)
# Families counting a request once per tag (the reader may use them only for TAG groups or
# a one-tag filter).
TAG_FAMILIES = (USAGE_BY_TEAM_TAG,)
# Smallest first (typical rows per tenant and day): the reader takes the first family that
# has every dimension a question filters or groups on.
USAGE_FAMILIES = (USAGE_BY_MODEL, USAGE_BY_MODEL_STATUS, USAGE_BY_KEY, USAGE_BY_MEMBER, USAGE_FULL)


class UsageRollupBase(Model):
    id = fields.BigIntField(primary_key=True)
    organization_id = fields.IntField()
    bucket_start = fields.DatetimeField()
    api_key_id = fields.IntField()
    member_id = fields.IntField()
    model = fields.CharField(max_length=100)
    provider_model = fields.CharField(max_length=100)
    endpoint = fields.CharField(max_length=200)
    status_code = fields.SmallIntField()
    # The request log's provider (ingestion.providers); migration 0016 added it.
    provider = fields.CharField(max_length=50, default="unknown", db_default="unknown")
    requests = fields.BigIntField(default=0)
    successful = fields.BigIntField(default=0)
    client_errors = fields.BigIntField(default=0)
    server_errors = fields.BigIntField(default=0)
    unpriced = fields.BigIntField(default=0)
    input_tokens = fields.BigIntField(default=0)
    output_tokens = fields.BigIntField(default=0)
    provider_cost_nanos = fields.BigIntField(default=0)
    markup_nanos = fields.BigIntField(default=0)
    fixed_fee_nanos = fields.BigIntField(default=0)
    customer_cost_nanos = fields.BigIntField(default=0)
    latency_ms_sum = fields.BigIntField(default=0)
    cache_read_tokens = fields.BigIntField(default=0, db_default=0)
    cache_write_5m_tokens = fields.BigIntField(default=0, db_default=0)
    cache_write_1h_tokens = fields.BigIntField(default=0, db_default=0)
    reasoning_tokens = fields.BigIntField(default=0, db_default=0)
    request_units = fields.BigIntField(default=0, db_default=0)
    input_cost_nanos = fields.BigIntField(default=0, db_default=0)
    cache_read_cost_nanos = fields.BigIntField(default=0, db_default=0)
    cache_write_cost_nanos = fields.BigIntField(default=0, db_default=0)
    output_cost_nanos = fields.BigIntField(default=0, db_default=0)
    reasoning_cost_nanos = fields.BigIntField(default=0, db_default=0)
    request_cost_nanos = fields.BigIntField(default=0, db_default=0)
    cache_savings_nanos = fields.BigIntField(default=0, db_default=0)

    class Meta:
        abstract = True


_UNIQUE = (USAGE_FULL.key_columns,)


class UsageRollupDay(UsageRollupBase):
    class Meta:
        table = "usage_rollup_day"
        unique_together = _UNIQUE


class UsageMeasuresBase(Model):
    """The measures every usage cube carries (same columns as the full rollup)."""

    id = fields.BigIntField(primary_key=True)
    organization_id = fields.IntField()
    bucket_start = fields.DatetimeField()
    requests = fields.BigIntField(default=0)
    successful = fields.BigIntField(default=0)
    client_errors = fields.BigIntField(default=0)
    server_errors = fields.BigIntField(default=0)
    unpriced = fields.BigIntField(default=0)
    input_tokens = fields.BigIntField(default=0)
    output_tokens = fields.BigIntField(default=0)
    provider_cost_nanos = fields.BigIntField(default=0)
    markup_nanos = fields.BigIntField(default=0)
    fixed_fee_nanos = fields.BigIntField(default=0)
    customer_cost_nanos = fields.BigIntField(default=0)
    latency_ms_sum = fields.BigIntField(default=0)
    cache_read_tokens = fields.BigIntField(default=0, db_default=0)
    cache_write_5m_tokens = fields.BigIntField(default=0, db_default=0)
    cache_write_1h_tokens = fields.BigIntField(default=0, db_default=0)
    reasoning_tokens = fields.BigIntField(default=0, db_default=0)
    request_units = fields.BigIntField(default=0, db_default=0)
    input_cost_nanos = fields.BigIntField(default=0, db_default=0)
    cache_read_cost_nanos = fields.BigIntField(default=0, db_default=0)
    cache_write_cost_nanos = fields.BigIntField(default=0, db_default=0)
    output_cost_nanos = fields.BigIntField(default=0, db_default=0)
    reasoning_cost_nanos = fields.BigIntField(default=0, db_default=0)
    request_cost_nanos = fields.BigIntField(default=0, db_default=0)
    cache_savings_nanos = fields.BigIntField(default=0, db_default=0)

    class Meta:
        abstract = True


class ModelCubeBase(UsageMeasuresBase):
    model = fields.CharField(max_length=100)

    class Meta:
        abstract = True


class ModelStatusCubeBase(UsageMeasuresBase):
    model = fields.CharField(max_length=100)
    status_code = fields.SmallIntField()

    class Meta:
        abstract = True


class KeyCubeBase(UsageMeasuresBase):
    api_key_id = fields.IntField()

    class Meta:
        abstract = True


class MemberCubeBase(UsageMeasuresBase):
    member_id = fields.IntField()

    class Meta:
        abstract = True


class UsageCubeModelQuarter(ModelCubeBase):
    class Meta:
        table = "usage_cube_model_quarter"
        unique_together = (USAGE_BY_MODEL.key_columns,)


class UsageCubeModelHour(ModelCubeBase):
    class Meta:
        table = "usage_cube_model_hour"
        unique_together = (USAGE_BY_MODEL.key_columns,)


class UsageCubeModelDay(ModelCubeBase):
    class Meta:
        table = "usage_cube_model_day"
        unique_together = (USAGE_BY_MODEL.key_columns,)


class UsageCubeModelStatusQuarter(ModelStatusCubeBase):
    class Meta:
        table = "usage_cube_model_status_quarter"
        unique_together = (USAGE_BY_MODEL_STATUS.key_columns,)


class UsageCubeModelStatusHour(ModelStatusCubeBase):
    class Meta:
        table = "usage_cube_model_status_hour"
        unique_together = (USAGE_BY_MODEL_STATUS.key_columns,)


class UsageCubeModelStatusDay(ModelStatusCubeBase):
    class Meta:
        table = "usage_cube_model_status_day"
        unique_together = (USAGE_BY_MODEL_STATUS.key_columns,)


class UsageCubeKeyHour(KeyCubeBase):
    class Meta:
        table = "usage_cube_key_hour"
        unique_together = (USAGE_BY_KEY.key_columns,)


class UsageCubeKeyDay(KeyCubeBase):
    class Meta:
        table = "usage_cube_key_day"
        unique_together = (USAGE_BY_KEY.key_columns,)


class UsageCubeMemberHour(MemberCubeBase):
    class Meta:
        table = "usage_cube_member_hour"
        unique_together = (USAGE_BY_MEMBER.key_columns,)


class UsageCubeMemberDay(MemberCubeBase):
    class Meta:
        table = "usage_cube_member_day"
        unique_together = (USAGE_BY_MEMBER.key_columns,)


class TeamTagCubeBase(UsageMeasuresBase):
    tag = fields.CharField(max_length=64)

    class Meta:
        abstract = True


class TeamEndUserCubeBase(UsageMeasuresBase):
    end_user = fields.CharField(max_length=128)

    class Meta:
        abstract = True


class UsageCubeTeamTagHour(TeamTagCubeBase):
    class Meta:
        table = "usage_cube_team_tag_hour"
        unique_together = (USAGE_BY_TEAM_TAG.key_columns,)


class UsageCubeTeamTagDay(TeamTagCubeBase):
    class Meta:
        table = "usage_cube_team_tag_day"
        unique_together = (USAGE_BY_TEAM_TAG.key_columns,)


class UsageCubeTeamEndUserDay(TeamEndUserCubeBase):
    class Meta:
        table = "usage_cube_team_end_user_day"
        unique_together = (USAGE_BY_TEAM_END_USER.key_columns,)
