"""How deeply a decoded JSON value nests arrays and objects, measured without recursion.

Deeply nested JSON costs nothing to send and everything to walk: recursive code (Python's
json module, graphql-core's coercion, our own checks) fails with RecursionError around
1,000 levels. Values are therefore measured here, iteratively, and refused past a bound.
"""

from __future__ import annotations

# Metadata of an ingested record (model parameters, provider details) never needs more.
MAX_METADATA_DEPTH = 32


def nested_deeper_than(value: object, limit: int) -> bool:
    """Whether `value` nests more than `limit` levels of arrays and objects (`1` and `"a"`
    are 0 levels, `[]` and `{"a": 1}` are 1, `{"a": [1]}` is 2)."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list):
            continue
        depth += 1
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth) for child in children if isinstance(child, dict | list))
    return False
