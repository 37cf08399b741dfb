"""SQL for tags and end users on raw request_log rows (models/attribution.py).

`request_log.tags` is a JSON array (jsonb on PostgreSQL, JSON text on SQLite) of distinct
tags in normal form, NULL without tags. Reads need two things from it:

- conditions: the request has ANY of some tags, or ALL of them;
- one row per (request, tag) to group by tag: `tag_rows_join` joins every row to its tags,
  an untagged request once with tag "" (models.rollup.NO_TAG), as the tag rollups count it.
"""

from __future__ import annotations

import orjson

from models.database import Dialect, Params

# The joined relation's tag column (both dialects call it tag_of.value).
TAG_VALUE = "tag_of.value"


def tag_rows_join(dialect: Dialect, table: str = "request_log", source: str | None = None) -> str:
    """`table` joined to its tags: one row per tag, untagged rows once with tag "".
    `source`: the FROM item named `table` (a subquery aliased so), when not the table."""
    relation = table if source is None else source
    if dialect is Dialect.POSTGRES:
        return (
            f"{relation} CROSS JOIN LATERAL jsonb_array_elements_text("
            f"COALESCE({table}.tags, '[\"\"]'::jsonb)) AS tag_of(value)"
        )
    return f"{relation} JOIN json_each(COALESCE({table}.tags, '[\"\"]')) AS tag_of"


def has_any_tag(column: str, tags: tuple[str, ...], params: Params) -> str:
    """Condition: the JSON array `column` holds at least one of `tags` (none: no row)."""
    if not tags:
        return "1 = 0"
    if params.dialect is Dialect.POSTGRES:
        elements = f"jsonb_array_elements_text({column}) AS t(value)"
    else:
        elements = f"json_each({column}) AS t"
    return f"EXISTS (SELECT 1 FROM {elements} WHERE t.value IN ({params.add_list(tags)}))"


def has_all_tags(column: str, tags: tuple[str, ...], params: Params) -> str:
    """Condition: the JSON array `column` holds every one of `tags` (distinct)."""
    if not tags:
        return "1 = 0"
    if params.dialect is Dialect.POSTGRES:
        return f"{column} @> CAST({params.add(orjson.dumps(list(tags)).decode())} AS jsonb)"
    # Stored tags are distinct, so counting the matches counts the distinct tags present.
    return (
        f"(SELECT COUNT(*) FROM json_each({column}) AS t "
        f"WHERE t.value IN ({params.add_list(tags)})) = {len(tags)}"
    )
