"""Ingest's per-record pricing CPU, alone: `RecordPricer.price` on validated records.

    python -m bench.pricing_bench --records 100000 --rounds 5

Generates the ingest benchmark's records (bench.ingest_bench.generate: 5 models, 5% errors,
two hours of timestamps in arrival order), gives a share of them prompt-cache and reasoning
tokens (`--cached`, default 30%: half the prompt read from the cache, a tenth written, a
fifth of the output reasoning), validates them all before timing, then prices them in
batches of 5,000 with a fresh `RecordPricer` per batch (as the ingest pipeline does) after
`gc.freeze()`, with the garbage collector off while timing (what a collection costs depends
on everything else alive in the process; bench.gc_regimes measures that). Prints CPU
microseconds per record (process time) per round, for all records and for the plain and the
cached ones apart, and a checksum of every amount so two trees can be compared for
identical results.
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from datetime import UTC, datetime
from typing import Any

from bench.ingest_bench import BenchOrg, generate
from ingestion.pricing import RecordPricer
from ingestion.reprice import COST_COLUMNS
from ingestion.validation import (
    KeyInfo,
    OrgDirectory,
    ValidationRules,
    ValidRecord,
    validate_record,
)
from models.global_ids import decode_global_id_of
from models.priced_record import PricedRecord
from pricing.catalog import load_default_catalog
from pricing.money import usd_to_nanos
from pricing.terms import TermsTimeline

_BATCH = 5000


def with_classes(records: list[dict[str, Any]], share: float, seed: int) -> None:
    """Give `share` of the records cache reads and writes and reasoning tokens, in place."""
    rng = random.Random(seed)
    for record in records:
        if rng.random() >= share:
            continue
        prompt = int(record["inputTokens"])
        record["cacheReadTokens"] = prompt // 2
        record["cacheWrite5mTokens"] = prompt // 10
        record["reasoningTokens"] = int(record["outputTokens"]) // 5


def validated(records: list[dict[str, Any]], org: BenchOrg) -> list[ValidRecord]:
    directory = OrgDirectory(
        keys_by_id={key_id: KeyInfo(key_id, owner) for key_id, _, owner in org.keys},
        keys_by_prefix={prefix: [KeyInfo(key_id, owner)] for key_id, prefix, owner in org.keys},
        member_ids=frozenset(owner for _, _, owner in org.keys if owner is not None),
    )
    rules = ValidationRules.at(datetime.now(UTC), 7, False, decode_global_id_of)
    return [validate_record(record, directory, rules) for record in records]


def price_all(records: list[ValidRecord]) -> tuple[float, list[PricedRecord]]:
    """CPU seconds to price `records` batch by batch, and the priced records."""
    catalog = load_default_catalog()
    terms = TermsTimeline.constant(2500, usd_to_nanos("0.001"))
    priced: list[PricedRecord] = []
    gc.collect()
    gc.disable()
    try:
        started = time.process_time()
        for start in range(0, len(records), _BATCH):
            pricer = RecordPricer(catalog, 1, terms)
            priced.extend(pricer.price(record) for record in records[start : start + _BATCH])
        return time.process_time() - started, priced
    finally:
        gc.enable()


def checksum(priced: list[PricedRecord]) -> int:
    """Every amount of every record, folded into one number (order-sensitive)."""
    total = 0
    for position, record in enumerate(priced, start=1):
        for name in COST_COLUMNS:
            total = (total * 31 + position * getattr(record, name)) % (1 << 61)
    return total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pricing_bench", description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cached", type=float, default=0.3, help="share with cache tokens")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    org = BenchOrg(1, "", [(i, f"ak_{i:06d}", (i % 7) or None) for i in range(1, 40)])
    raw = generate(org, args.records, args.seed, "arrival")
    with_classes(raw, args.cached, args.seed)
    records = validated(raw, org)
    plain = [r for r in records if not r.cache_read_tokens]
    cached = [r for r in records if r.cache_read_tokens]
    gc.freeze()
    print(
        f"{len(records):,} records ({len(cached):,} with cache and reasoning tokens), "
        f"batches of {_BATCH:,}; CPU us per record"
    )
    for round_ in range(1, args.rounds + 1):
        seconds, priced = price_all(records)
        plain_seconds, _ = price_all(plain)
        cached_seconds, _ = price_all(cached)
        print(
            f"round {round_}: all {seconds / len(records) * 1e6:.2f}; "
            f"plain {plain_seconds / max(len(plain), 1) * 1e6:.2f}; "
            f"cached {cached_seconds / max(len(cached), 1) * 1e6:.2f}"
        )
    print(f"checksum of every amount: {checksum(priced)}")


if __name__ == "__main__":
    main()
