"""Garbage-collector settings for a serving process that ingests in bulk.

A JSON lines batch becomes ~15 container objects per record (parsed dicts, validated and
priced records, rows), all alive until the batch is written. With CPython's default
threshold (a young collection every 700 allocations) each of them is scanned again and
again while it survives, which costs about a third of ingest's Python time (parse +
validate + price, measured by `python -m bench.ingest_bench`).

Ingest's CPU-bound steps therefore run inside `collections_deferred()`: no cyclic
collection while a chunk of records is parsed, validated and priced; the survivors are
scanned once when the chunk ends. Everything else keeps CPython's default thresholds: a
service-wide high young threshold (tried: 50,000) makes each young collection scan tens of
thousands of a dashboard request's objects at once, and took a dashboard's p99 under a
noisy neighbour from ~50 ms to ~100 ms (docs/PERFORMANCE.md). Reference counting still
frees almost everything at once; cyclic garbage waits at most one chunk.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


def freeze_startup_objects() -> None:
    """Move everything allocated so far (schema, ORM metadata, settings) to the permanent
    generation, so no full collection scans the framework again. Call once, after start-up."""
    gc.freeze()


@contextmanager
def collections_deferred() -> Iterator[None]:
    """No cyclic garbage collection inside the block; the collector is restored as it was.

    For synchronous, bounded work only (no `await` inside): the event loop's other
    requests must not run with the collector off."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
