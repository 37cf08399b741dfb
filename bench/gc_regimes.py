"""Ingest's Python CPU per record under the garbage collector's regimes, in one run.

    python -m bench.gc_regimes --records 100000 --rounds 3

Parses, validates and prices the ingest benchmark's records (bench.ingest_bench.generate,
5,000 per body, no database) after `gc.freeze()`, as a serving process does, with:
- CPython's default thresholds (what the service runs);
- a young threshold of 50,000 (what it ran before issue 12's noisy-neighbour runs);
- the default thresholds with collection turned off while each body is handled.
Prints CPU microseconds per record (process time) per regime and round.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from datetime import UTC, datetime

import orjson

from bench.ingest_bench import BenchOrg, generate
from ingestion.json_lines import parse_json_lines
from ingestion.pricing import RecordPricer
from ingestion.validation import KeyInfo, OrgDirectory, ValidationRules, validate_record
from models.global_ids import decode_global_id_of
from models.priced_record import PricedRecord
from pricing.catalog import load_default_catalog
from pricing.money import usd_to_nanos
from pricing.terms import TermsTimeline

_BODY_RECORDS = 5000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.gc_regimes", description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    org = BenchOrg(1, "", [(i, f"ak_{i:06d}", (i % 7) or None) for i in range(1, 40)])
    records = generate(org, args.records, 1, "arrival")
    bodies = [
        b"\n".join(orjson.dumps(r) for r in records[i : i + _BODY_RECORDS])
        for i in range(0, len(records), _BODY_RECORDS)
    ]
    directory = OrgDirectory(
        keys_by_id={key_id: KeyInfo(key_id, owner) for key_id, _, owner in org.keys},
        keys_by_prefix={prefix: [KeyInfo(key_id, owner)] for key_id, prefix, owner in org.keys},
        member_ids=frozenset(owner for _, _, owner in org.keys if owner is not None),
    )
    rules = ValidationRules.at(datetime.now(UTC), 7, False, decode_global_id_of)
    pricer = RecordPricer(
        load_default_catalog(), 1, TermsTimeline.constant(2500, usd_to_nanos("0.001"))
    )

    def handle(body: bytes) -> list[PricedRecord]:
        parsed, _ = parse_json_lines(body, _BODY_RECORDS)
        return [pricer.price(validate_record(s.fields, directory, rules)) for s in parsed]

    def off_per_body(body: bytes) -> list[PricedRecord]:
        gc.disable()
        try:
            return handle(body)
        finally:
            gc.enable()

    def us_per_record(threshold: int, run: Callable[[bytes], list[PricedRecord]]) -> float:
        gc.set_threshold(threshold, 10, 10)
        started = time.process_time()
        alive: list[list[PricedRecord]] = []
        for body in bodies:
            alive.append(run(body))
            del alive[:-2]  # two batches in flight, as with concurrent clients
        return (time.process_time() - started) / len(records) * 1e6

    gc.freeze()
    print(f"{len(records):,} records, {len(bodies)} bodies; CPU us per record")
    for round_ in range(1, args.rounds + 1):
        default = us_per_record(700, handle)
        high = us_per_record(50_000, handle)
        off = us_per_record(700, off_per_body)
        print(
            f"round {round_}: default (700) {default:.1f}; young 50,000 {high:.1f}; "
            f"off per body {off:.1f}"
        )
    gc.set_threshold(700, 10, 10)


if __name__ == "__main__":
    main()
