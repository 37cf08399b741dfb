"""Garbage-collector settings for a serving process.

Start-up freezes what it allocated (schema, ORM metadata, settings): no full collection
scans the framework again. The collection thresholds stay CPython's defaults (a young
collection every 700 allocations). A service-wide young threshold of 50,000 made ingest's
parse + validate + price cheaper (a batch's objects per record are scanned less often while
they survive), but made each young collection scan tens of thousands of objects at once in
the middle of other organizations' requests, and a dashboard's p99 under a noisy neighbour
more than doubled (docs/PERFORMANCE.md, "Noisy neighbour"). Turning collection off while
each batch is parsed, validated and priced saves as much in isolation
(`python -m bench.gc_regimes`), but the pipeline yields to other requests every 250 records,
and overlapping batches would keep collection off for everyone; ingest pays the difference
instead.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Move everything allocated so far to the permanent generation, so no collection scans
    it again. Call once, after start-up."""
    gc.freeze()
