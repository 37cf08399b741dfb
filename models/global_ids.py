"""Relay global ids: base64url("Type:pk"). Anything undecodable is simply not found.

Pure functions, below every package that names objects by id: the schema (graph/), exports,
alerts, reports and metrics.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache


# Cached: a page of logs names the same few keys and members row after row.
@lru_cache(maxsize=8192)
def encode_global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def decode_global_id(global_id: str) -> tuple[str, int] | None:
    """(type name, primary key), or None for anything that is not one of our ids."""
    padded = global_id + "=" * (-len(global_id) % 4)
    try:
        text = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, sep, pk = text.partition(":")
    # isascii: str.isdigit() also accepts digits such as '²' that int() refuses.
    if (
        not sep
        or not (pk.isascii() and pk.isdigit())
        or not type_name.isidentifier()
        or len(pk) > 18
    ):
        return None
    return type_name, int(pk)


def decode_global_id_of(global_id: str, expected_type: str) -> int | None:
    """The primary key if `global_id` names an `expected_type`, else None."""
    decoded = decode_global_id(global_id)
    if decoded is None or decoded[0] != expected_type:
        return None
    return decoded[1]
