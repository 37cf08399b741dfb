"""Text the database cannot store: NUL characters and unpaired surrogates.

PostgreSQL text cannot hold a NUL (U+0000), and asyncpg cannot encode a lone surrogate
(U+D800 to U+DFFF without its pair: not a character, so not UTF-8). A Python string holds
one when a JSON body escapes it (`"\\ud800"`) or a command-line argument is not UTF-8.
Inputs carrying either are refused before anything runs, on both backends alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

NUL_MESSAGE = "strings may not contain NUL characters (\\u0000)"
SURROGATE_MESSAGE = "strings may not contain unpaired surrogates (\\ud800 to \\udfff)"
# A decoded str holds surrogate code points only unpaired: JSON decoders join pairs.
_SURROGATE = re.compile("[\ud800-\udfff]")

# Keys and indexes from a value's root to one of its strings.
ValuePath = tuple[str | int, ...]


def unstorable_reason(text: str) -> str | None:
    """Why `text` cannot be stored (NUL_MESSAGE or SURROGATE_MESSAGE), None when it can."""
    if "\x00" in text:
        return NUL_MESSAGE
    if _SURROGATE.search(text):
        return SURROGATE_MESSAGE
    return None


def first_unstorable(value: object) -> tuple[ValuePath, str] | None:
    """The path to the first unstorable string in a JSON value (strings, lists, objects;
    keys count), and why; None when there is none. Iterative, so any depth is safe."""
    stack: list[tuple[ValuePath, object]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            reason = unstorable_reason(item)
            if reason is not None:
                return path, reason
        elif isinstance(item, Mapping):
            for key, child in reversed(list(item.items())):
                if isinstance(key, str) and (reason := unstorable_reason(key)) is not None:
                    return path, reason
                stack.append(((*path, key), child))
        elif isinstance(item, list | tuple):
            stack.extend(((*path, i), child) for i, child in reversed(list(enumerate(item))))
    return None


def could_spell_unstorable(query: str) -> bool:
    """Whether a GraphQL document's text could hold an unstorable string literal: a raw NUL
    or surrogate, or a `\\u` escape that might spell one."""
    return "\x00" in query or "\\u" in query or _SURROGATE.search(query) is not None


def shown_path(path: ValuePath) -> str:
    """`path` as `.models[1]` (empty for the root), graphql-core's way of naming a place."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
