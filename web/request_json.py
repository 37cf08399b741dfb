"""Decode the JSON of a /graphql request (the POST body, or GET's `variables`), bounded in depth.

strawberry decodes with Python's json module, which fails with RecursionError (an HTTP 500)
a thousand levels down; graphql-core's coercion and our own checks recurse too. A request
nesting arrays and objects more than MAX_REQUEST_JSON_DEPTH levels is refused with 400
before any of them sees it. The bound leaves room for every input of the schema: the
deepest, a record's `metadata` (at most 32 levels, ingestion/json_nesting.py), sits 4
levels down (body, variables, records, record).
"""

from __future__ import annotations

import json

# strawberry's own HTTP layer (cross_web) renders this as a 400; web/app.py codes it.
from cross_web import HTTPException

from ingestion.json_nesting import nested_deeper_than

MAX_REQUEST_JSON_DEPTH = 64
TOO_DEEP = (
    f"The request's JSON nests more than {MAX_REQUEST_JSON_DEPTH} levels of objects and arrays."
)


def decode_request_json(data: str | bytes) -> object:
    """The decoded value; HTTPException(400) when it nests too deeply. Syntax errors raise
    json.JSONDecodeError, which strawberry answers with its own 400."""
    try:
        value = json.loads(data)
    except RecursionError:
        # Raised by the decoder itself, unwound cleanly: deeper than any bound we accept.
        raise HTTPException(400, TOO_DEEP) from None
    if nested_deeper_than(value, MAX_REQUEST_JSON_DEPTH):
        raise HTTPException(400, TOO_DEEP)
    return value
