"""Would msgspec make ingest validation faster? Parse + validate of the bulk endpoint's
records, today's way (orjson into a dict, then `ingestion.validation.validate_record`)
against msgspec decoding each line into a typed Struct (types, bounds, UUID and date-time
checked in C) followed by the checks msgspec cannot express (key lookup, time window, tags,
end user, metadata depth, NUL). Not product code: the msgspec path keeps no error wording.

    python -m bench.msgspec_validation --records 50000 --rounds 5

Both paths run alternately in one process; prints CPU microseconds per record (best and
median of the rounds) and the ratio. Needs `pip install msgspec` (not a dependency).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

import msgspec
import orjson

from bench.process_cpu import load_average
from ingestion.json_nesting import MAX_METADATA_DEPTH, nested_deeper_than
from ingestion.validation import (
    MAX_COUNT,
    InvalidRecord,
    KeyInfo,
    OrgDirectory,
    ValidationRules,
    ValidRecord,
    validate_record,
)
from models.attribution import normalize_end_user, normalize_tags
from models.global_ids import decode_global_id_of

Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]
Name100 = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class GatewayRecord(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """The bench records' fields, typed (the product accepts more: usage, costs, ids)."""

    request_id: UUID
    timestamp: datetime
    model: Name100
    endpoint: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    input_tokens: Count
    output_tokens: Count
    latency_ms: Count
    status_code: Annotated[int, msgspec.Meta(ge=100, le=599)]
    api_key_prefix: str | None = None
    provider_model: Name100 | None = None
    error_message: str | None = None
    metadata: dict[str, Any] | None = None
    tags: list[str] | None = None
    end_user: str | None = None


_DECODER = msgspec.json.Decoder(GatewayRecord)


def msgspec_validate(line: bytes, directory: OrgDirectory, rules: ValidationRules) -> ValidRecord:
    """Decode with msgspec, then the checks a Struct cannot express."""
    r = _DECODER.decode(line)
    if r.timestamp.tzinfo is None:
        raise InvalidRecord("timestamp", "needs a UTC offset")
    instant = r.timestamp.astimezone(UTC)
    if not rules.earliest <= instant <= rules.latest:
        raise InvalidRecord("timestamp", "outside the window")
    matches = directory.keys_by_prefix.get(r.api_key_prefix or "", [])
    if len(matches) != 1:
        raise InvalidRecord("apiKeyPrefix", "no single key")
    key = matches[0]
    metadata = r.metadata
    if metadata is not None and (
        nested_deeper_than(metadata, MAX_METADATA_DEPTH) or b"\\u0000" in orjson.dumps(metadata)
    ):
        raise InvalidRecord("metadata", "too deep or NUL")
    return ValidRecord(
        request_id=r.request_id,
        timestamp=instant,
        api_key_id=key.id,
        member_id=key.owner_id,
        model=r.model,
        provider_model=r.provider_model or r.model,
        endpoint=r.endpoint,
        input_tokens=r.input_tokens,
        output_tokens=r.output_tokens,
        provider_cost_nanos=None,
        latency_ms=r.latency_ms,
        status_code=r.status_code,
        error_message=r.error_message,
        metadata=metadata,
        request_body=None,
        response_body=None,
        tags=normalize_tags(r.tags),
        end_user=normalize_end_user(r.end_user),
    )


def today(line: bytes, directory: OrgDirectory, rules: ValidationRules) -> ValidRecord:
    return validate_record(orjson.loads(line), directory, rules)


def records(count: int, prefixes: list[str]) -> list[bytes]:
    """NDJSON lines shaped like bench.ingest_bench's (metadata, tags on most, end users)."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    lines = []
    for _ in range(count):
        ok = rng.random() < 0.95
        record: dict[str, Any] = {
            "requestId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "timestamp": (now - timedelta(seconds=rng.randrange(60, 7200))).isoformat(),
            "apiKeyPrefix": rng.choice(prefixes),
            "model": "gpt-4o",
            "providerModel": "gpt-4o-2024-08-06",
            "endpoint": "/v1/chat/completions",
            "inputTokens": rng.randrange(10, 4000),
            "outputTokens": rng.randrange(1, 1500) if ok else 0,
            "latencyMs": rng.randrange(80, 9000),
            "statusCode": 200 if ok else 502,
            "errorMessage": None if ok else "upstream error",
            "metadata": {"temperature": 0.7, "max_tokens": 1024, "stream": rng.random() < 0.4},
        }
        if rng.random() < 0.8:
            record["tags"] = [f"feature:f{rng.randrange(8)}", f"customer:{rng.randrange(500)}"]
        if rng.random() < 0.7:
            record["endUser"] = f"user-{rng.randrange(10_000)}"
        lines.append(orjson.dumps(record))
    return lines


Validate = Callable[[bytes, OrgDirectory, ValidationRules], ValidRecord]


def cpu_per_record(
    validate: Validate, lines: list[bytes], d: OrgDirectory, r: ValidationRules
) -> float:
    started = time.process_time()
    for line in lines:
        validate(line, d, r)
    return (time.process_time() - started) / len(lines) * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.msgspec_validation")
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    keys = [(i, f"sk-aize-{i:06d}", i if i % 2 else None) for i in range(1, 21)]
    directory = OrgDirectory(
        keys_by_id={k: KeyInfo(k, owner) for k, _, owner in keys},
        keys_by_prefix={prefix: [KeyInfo(k, owner)] for k, prefix, owner in keys},
        member_ids=frozenset(owner for *_, owner in keys if owner is not None),
    )
    rules = ValidationRules.at(datetime.now(UTC), 35, False, decode_global_id_of)
    lines = records(args.records, [prefix for _, prefix, _ in keys])
    # Same answers on these records (the fields both paths fill).
    for line in lines[:1000]:
        a, b = today(line, directory, rules), msgspec_validate(line, directory, rules)
        assert (a.request_id, a.timestamp, a.api_key_id, a.tags, a.end_user, a.metadata) == (
            b.request_id, b.timestamp, b.api_key_id, b.tags, b.end_user, b.metadata
        )  # fmt: skip
    print(f"load average at start: {load_average()}")
    results: dict[str, list[float]] = {
        "orjson + validate_record": [],
        "msgspec Struct + checks": [],
    }
    for _ in range(args.rounds):
        results["orjson + validate_record"].append(cpu_per_record(today, lines, directory, rules))
        results["msgspec Struct + checks"].append(
            cpu_per_record(msgspec_validate, lines, directory, rules)
        )
    for name, values in results.items():
        best, median = min(values), statistics.median(values)
        print(f"{name:26} best {best:5.2f} µs  median {median:5.2f} µs CPU/record")
    ratio = min(results["msgspec Struct + checks"]) / min(results["orjson + validate_record"])
    print(f"msgspec / today (best): {ratio:.2f}; load average at end: {load_average()}")


if __name__ == "__main__":
    main()
