"""Latency histograms, maintained at ingest like the usage rollups, for percentiles over
slices too large to sort.

Bucketing (log-linear, integers only, so Python and SQL agree exactly): a latency v < 128 ms
is its own bucket (exact). Above, each power of two [2^(s+6), 2^(s+7)) is split into 64
equal buckets of width 2^s; bucket index = 64·s + (v >> s). A bucket's reported value is its
middle, lo + 2^(s-1), so |reported - v| <= 2^(s-1) <= v / 128 for every v in the bucket: a
relative error of at most 1/128 (0.78125%). Indices run 0..1663 for 0 <= v < 2^31.

Two families: `latency_hist` (buckets only, for unfiltered questions; HOUR and DAY grains)
and `latency_hist_model_status` (by model and status code, for those filters and groups; DAY
grain). Each row counts requests and sums their latency, so averages stay exact. Finer
grains would hold about one row per request (hundreds of buckets per model and status), no
fewer than the raw log they would replace at a range's edges.
"""

from __future__ import annotations

from fractions import Fraction

from tortoise import fields
from tortoise.models import Model

from models.rollup import RollupFamily

SUB_BUCKET_BITS = 6
_SUB_BUCKETS = 1 << SUB_BUCKET_BITS
_EXACT_BELOW = _SUB_BUCKETS * 2
_MAX_SHIFT = 31 - SUB_BUCKET_BITS - 1
# The worst |reported - true| / true of a percentile read from a histogram.
MAX_RELATIVE_ERROR = Fraction(1, _EXACT_BELOW)

LATENCY_MEASURES = ("requests", "latency_ms_sum")
LATENCY_TOTAL = RollupFamily("latency_hist", ("latency_bucket",), LATENCY_MEASURES, ("hour", "day"))
LATENCY_BY_MODEL_STATUS = RollupFamily(
    "latency_hist_model_status",
    ("model", "status_code", "latency_bucket"),
    LATENCY_MEASURES,
    ("day",),
)
# Smallest first, as for the usage families.
LATENCY_FAMILIES = (LATENCY_TOTAL, LATENCY_BY_MODEL_STATUS)


def latency_bucket(latency_ms: int) -> int:
    """The histogram bucket index of a latency in ms (negative values count as 0)."""
    value = max(latency_ms, 0)
    if value < _EXACT_BELOW:
        return value
    shift = value.bit_length() - SUB_BUCKET_BITS - 1
    return _SUB_BUCKETS * shift + (value >> shift)


def bucket_value_ms(bucket: int) -> int:
    """The latency in ms reported for a bucket: its middle (exact below 128 ms)."""
    if bucket < _EXACT_BELOW:
        return bucket
    shift = bucket // _SUB_BUCKETS - 1
    low = (bucket - _SUB_BUCKETS * shift) << shift
    return low + (1 << (shift - 1))


def bucket_bounds_ms(bucket: int) -> tuple[int, int]:
    """The smallest and largest latency (ms, inclusive) that fall in a bucket."""
    if bucket < _EXACT_BELOW:
        return bucket, bucket
    shift = bucket // _SUB_BUCKETS - 1
    low = (bucket - _SUB_BUCKETS * shift) << shift
    return low, low + (1 << shift) - 1


def latency_bucket_sql(column: str) -> str:
    """SQL (SQLite and PostgreSQL) computing `latency_bucket` of an integer column."""
    arms = [f"WHEN {column} < {_EXACT_BELOW} THEN {column}"]
    for shift in range(1, _MAX_SHIFT + 1):
        upper = _EXACT_BELOW << shift
        arms.append(f"WHEN {column} < {upper} THEN {_SUB_BUCKETS * shift} + ({column} >> {shift})")
    last = _MAX_SHIFT + 1
    otherwise = f"{_SUB_BUCKETS * last} + ({column} >> {last})"
    return f"CASE WHEN {column} < 0 THEN 0 {' '.join(arms)} ELSE {otherwise} END"


class LatencyHistogramBase(Model):
    id = fields.BigIntField(primary_key=True)
    organization_id = fields.IntField()
    bucket_start = fields.DatetimeField()
    latency_bucket = fields.SmallIntField()
    requests = fields.BigIntField(default=0)
    latency_ms_sum = fields.BigIntField(default=0)

    class Meta:
        abstract = True


class LatencyHistogramByModelStatusBase(LatencyHistogramBase):
    model = fields.CharField(max_length=100)
    status_code = fields.SmallIntField()

    class Meta:
        abstract = True


class LatencyHistHour(LatencyHistogramBase):
    class Meta:
        table = "latency_hist_hour"
        unique_together = (LATENCY_TOTAL.key_columns,)


class LatencyHistDay(LatencyHistogramBase):
    class Meta:
        table = "latency_hist_day"
        unique_together = (LATENCY_TOTAL.key_columns,)


class LatencyHistModelStatusDay(LatencyHistogramByModelStatusBase):
    class Meta:
        table = "latency_hist_model_status_day"
        unique_together = (LATENCY_BY_MODEL_STATUS.key_columns,)
