"""web.export_endpoint: a usage export is encoded a slice at a time, other requests
running in between, and cut short once its deadline has passed."""

from __future__ import annotations

import asyncio

import pytest

from exports.formats import Column, ExportFormat, RowEncoder
from web.export_deadline import ExportDeadline
from web.export_endpoint import ENCODED_ROWS_PER_TURN, encode_in_slices

COLUMNS = (Column("n"),)


def _deadline(seconds_left: float) -> ExportDeadline:
    return ExportDeadline(10.0, asyncio.get_running_loop().time() + seconds_left)


async def test_rows_are_encoded_in_slices_with_other_work_in_between() -> None:
    rows = [[n] for n in range(3 * ENCODED_ROWS_PER_TURN)]
    neighbour_ran = asyncio.Event()
    asyncio.get_running_loop().call_soon(neighbour_ran.set)
    seen: list[bool] = []
    body = b""

    async for chunk in encode_in_slices(RowEncoder(COLUMNS, ExportFormat.CSV), rows, _deadline(60)):
        seen.append(neighbour_ran.is_set())
        body += chunk

    assert body == b"n\r\n" + b"".join(
        f"{n}\r\n".encode() for n in range(3 * ENCODED_ROWS_PER_TURN)
    )
    # header, then 3 slices: the neighbour ran between the first slice and the second.
    assert seen == [False, False, True, True]


async def test_an_export_past_its_deadline_is_cut_short_after_the_header() -> None:
    chunks: list[bytes] = []
    stream = encode_in_slices(RowEncoder(COLUMNS, ExportFormat.CSV), [[1], [2]], _deadline(-1))

    with pytest.raises(TimeoutError, match="export longer than 10 s"):
        async for chunk in stream:
            chunks.append(chunk)

    assert chunks == [b"n\r\n"]


async def test_a_late_export_build_is_refused_naming_the_timeout() -> None:
    response = _deadline(-1).refusal()

    assert response.status_code == 400
    assert response.body == (
        b'{"error":{"code":"QUERY_TOO_COMPLEX","message":"The export took longer than 10 s '
        b'and was cancelled; ask for a shorter period, a coarser granularity or fewer series."}}'
    )
