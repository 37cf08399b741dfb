"""The attribution rollups keep fewer grains (models/rollup.py USAGE_BY_TAG,
USAGE_BY_TEAM_TAG, USAGE_BY_END_USER): the tag families drop QUARTER, the end-user family
QUARTER and HOUR. Measured at 3M logs (docs/PERFORMANCE.md), those four tables held 7.0 GiB
of a 23.8 GiB database with about as many rows as the raw log they summarize; the reader
now reads those pieces of time from the raw rows (resolvers/rollup_reader.py
`family_slices`), so every answer stays exact and nothing else changes: the hour and day
tables that stay are untouched, and the raw log is where the dropped rows came from.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0019_tags_and_end_users")]

    initial = False

    operations = [
        ops.DeleteModel(name="UsageCubeTagQuarter"),
        ops.DeleteModel(name="UsageCubeTeamTagQuarter"),
        ops.DeleteModel(name="UsageCubeEndUserQuarter"),
        ops.DeleteModel(name="UsageCubeEndUserHour"),
    ]
