"""The ingest pipeline: validate each record, price the good ones, write them exactly once.

Both ingest paths (the bulk JSON lines endpoint and the GraphQL mutation) call
`ingest_batch`. A bad record becomes a rejection naming its position, field and reason; the
good ones in the same batch are stored. The outcome is returned only after the commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from ingestion.catalog_store import load_catalog
from ingestion.directory import load_directory, load_org_terms
from ingestion.pricing import RecordPricer
from ingestion.submission import IngestOutcome, Rejection, Submitted
from ingestion.unsynced_keys import create_unsynced_keys, unknown_prefixes
from ingestion.validation import IdDecoder, InvalidRecord, ValidationRules, validate_record
from ingestion.writer import write_records
from models.priced_record import PricedRecord
from observability.metrics import count_ingest_outcome
from spend.control import after_write

_YIELD_EVERY = 250


async def ingest_batch(
    organization_id: int,
    batch: Sequence[Submitted],
    *,
    late_arrival_days: int,
    decode_id: IdDecoder,
    rejected: Sequence[Rejection] = (),
    now: datetime | None = None,
    lock_wait_seconds: float | None = None,
) -> IngestOutcome:
    """Validate, price and store the batch for the organization.

    `rejected` carries records the caller could not even parse (bad JSON lines); they are
    reported with the rest, sorted by position. `decode_id(global_id, type_name)` turns the
    API's global ids into primary keys. Returns counts of accepted (newly stored) and
    duplicate records and every rejection. Raises IngestBusy (nothing stored) when the
    write would wait longer than `lock_wait_seconds` for a row lock (ingestion/lock_wait.py).
    """
    outcome = IngestOutcome(rejected=list(rejected))
    if batch:
        # The clock is read before the terms: a markup or fee change starts at least
        # FUTURE_TOLERANCE after its commit, so every record this batch accepts (at most
        # FUTURE_TOLERANCE after `now`) falls before a change these terms could miss.
        now = now or datetime.now(UTC)
        terms = await load_org_terms(organization_id)
        directory = await load_directory(organization_id, batch, decode_id)
        new_prefixes = unknown_prefixes(batch, directory)
        if new_prefixes:
            # Usage for keys directory sync has not named yet is kept (ingestion/unsynced_keys.py).
            await create_unsynced_keys(organization_id, new_prefixes)
            directory = await load_directory(organization_id, batch, decode_id)
        catalog = await load_catalog()
        rules = ValidationRules.at(now, late_arrival_days, terms.log_bodies, decode_id)
        pricer = RecordPricer(catalog, organization_id, terms.pricing)
        priced: list[PricedRecord] = []
        for index, item in enumerate(batch):
            if index % _YIELD_EVERY == _YIELD_EVERY - 1:
                # Let other batches' transactions move on: they may hold row locks while
                # they wait for this event loop.
                await asyncio.sleep(0)
            try:
                priced.append(pricer.price(validate_record(item.fields, directory, rules)))
            except InvalidRecord as exc:
                outcome.rejected.append(Rejection(item.position, item.line, exc.field, exc.reason))
        written = await write_records(
            priced, after_write=after_write, lock_wait_seconds=lock_wait_seconds
        )
        outcome.accepted = len(written.inserted)
        outcome.duplicates = len(written.duplicates)
    outcome.rejected.sort(key=lambda r: r.position)
    count_ingest_outcome(outcome.accepted, outcome.duplicates, len(outcome.rejected))
    return outcome
