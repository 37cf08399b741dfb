"""Tags and end users: what a record may carry to attribute its spend, and their normal form.

A tag names something of the application's own (a feature, a customer, a project): after
trimming surrounding whitespace and lowercasing it is 1 to MAX_TAG_BYTES bytes of ASCII
letters, digits and `_ - . : / = @ +`, starting with a letter or digit (so `team:search` and
`customer=acme` are tags, `Team:Search ` is the same tag as `team:search`). A record carries
at most MAX_TAGS distinct tags; repeats (after normalising) count once; they are stored
sorted.

The end user is the application's own id for the person it served (OpenAI's `user`
field): 1 to MAX_END_USER_BYTES bytes of UTF-8 after trimming, no control characters, case
kept (ids are case-sensitive). An empty or blank end user is the same as none.

Both are checked the same way for ingest (`InvalidRecord` naming the field and the tag's
index) and for filters (`ValueError`, the caller names the argument).
"""

from __future__ import annotations

import re

import orjson

MAX_TAGS = 10
MAX_TAG_BYTES = 64
MAX_END_USER_BYTES = 128
# After trimming and lowercasing; every character is ASCII, so characters are bytes.
_TAG = re.compile(r"[a-z0-9][a-z0-9_\-.:/=@+]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The value rollups and breakdowns use for requests without a tag / without an end user.
NO_TAG = ""
NO_END_USER = ""


def normalize_tag(value: object) -> str:
    """One tag in normal form; ValueError saying what is wrong with it."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {type(value).__name__}")
    tag = value.strip().lower()
    if not tag:
        raise ValueError("must not be empty")
    size = len(tag.encode())
    if size > MAX_TAG_BYTES:
        raise ValueError(f"must be at most {MAX_TAG_BYTES} bytes, got {size}")
    if _TAG.fullmatch(tag) is None:
        raise ValueError(
            f"{tag[:MAX_TAG_BYTES]!r} may hold only a-z, 0-9 and _ - . : / = @ + "
            "(starting with a letter or digit)"
        )
    return tag


class TagError(ValueError):
    """A tag list is not acceptable; `index` is the offending tag's position (None: the
    list itself)."""

    def __init__(self, index: int | None, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason


def normalize_tags(value: object) -> tuple[str, ...]:
    """A record's tags: normal form, distinct, sorted; () for null or []. TagError (with
    the index of the first bad tag) past the bounds or for a bad tag."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise TagError(None, f"must be a list of strings, got {type(value).__name__}")
    tags: set[str] = set()
    for index, item in enumerate(value):
        try:
            tags.add(normalize_tag(item))
        except ValueError as error:
            raise TagError(index, str(error)) from None
        if len(tags) > MAX_TAGS:
            raise TagError(index, f"a request carries at most {MAX_TAGS} distinct tags")
    return tuple(sorted(tags))


def normalize_end_user(value: object) -> str | None:
    """The end user's id trimmed, or None for null/blank; ValueError past the bounds."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {type(value).__name__}")
    end_user = value.strip()
    if not end_user:
        return None
    size = len(end_user.encode())
    if size > MAX_END_USER_BYTES:
        raise ValueError(f"must be at most {MAX_END_USER_BYTES} bytes, got {size}")
    if _CONTROL.search(end_user):
        raise ValueError("must not contain control characters")
    return end_user


def stored_tags(value: object) -> tuple[str, ...]:
    """request_log.tags as read back by either driver (JSON text, a list or NULL), or as
    already read (a tuple)."""
    if value is None:
        return ()
    if isinstance(value, str | bytes):
        value = orjson.loads(value)
    if not isinstance(value, list | tuple):
        raise ValueError(f"request_log.tags holds {type(value).__name__}, not a list")
    return tuple(str(tag) for tag in value)
