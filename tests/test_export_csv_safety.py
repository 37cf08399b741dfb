"""CSV that opens cleanly in a spreadsheet: quoting, formula neutralizing, BOM, JSON lines."""

from __future__ import annotations

import csv
import io

import orjson
import pytest

from exports.csv_safety import neutralize
from exports.formats import Column, ColumnKind, ExportFormat, RowEncoder, text

COLUMNS = (
    Column("id"),
    text("label"),
    Column("cost"),
    Column("ok"),
    Column("metadata", ColumnKind.JSON),
)


@pytest.mark.parametrize(
    "cell",
    ['=HYPERLINK("http://evil")', "+1+2", "-2+3", "@SUM(A1:A2)", "\tcmd", "\rcmd"],
)
def test_every_formula_trigger_gets_a_leading_quote(cell: str) -> None:
    assert neutralize(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Rate limit exceeded", "gpt-4", "", " =not first", "'quoted"])
def test_harmless_text_is_unchanged(cell: str) -> None:
    assert neutralize(cell) == cell


def _parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_user_text_is_neutralized_but_money_and_numbers_are_not() -> None:
    encoder = RowEncoder(COLUMNS, ExportFormat.CSV)
    data = encoder.header() + encoder.encode([[7, "=cmd|' /C calc'!A0", "-2.50", True, None]])

    assert _parse(data) == [
        ["id", "label", "cost", "ok", "metadata"],
        ["7", "'=cmd|' /C calc'!A0", "-2.50", "true", ""],
    ]


def test_quotes_commas_and_line_breaks_round_trip_with_rfc_4180_quoting() -> None:
    encoder = RowEncoder(COLUMNS, ExportFormat.CSV)
    label = 'He said "hi", then\r\nleft'
    data = encoder.encode([[1, label, "0.135", False, {"note": 'a,"b"'}]])

    assert data == (
        b'1,"He said ""hi"", then\r\nleft",0.135,false,"{""note"":""a,\\""b\\""""}"\r\n'
    )
    assert _parse(data) == [["1", label, "0.135", "false", '{"note":"a,\\"b\\""}']]


def test_json_cells_are_neutralized_like_any_user_text() -> None:
    encoder = RowEncoder((Column("m", ColumnKind.JSON),), ExportFormat.CSV)

    assert _parse(encoder.encode([[-1], [{"a": 1}]])) == [["'-1"], ['{"a":1}']]


def test_the_header_starts_with_a_bom_only_when_asked() -> None:
    plain = RowEncoder(COLUMNS, ExportFormat.CSV).header()
    excel = RowEncoder(COLUMNS, ExportFormat.CSV, bom=True).header()

    assert plain == b"id,label,cost,ok,metadata\r\n"
    assert excel == b"\xef\xbb\xbf" + plain


def test_non_ascii_text_is_utf8() -> None:
    encoder = RowEncoder(COLUMNS, ExportFormat.CSV)
    label = "Zo\u00eb\u2019s key \u2014 \u6771\u4eac"

    assert _parse(encoder.encode([[1, label, "1.00", True, None]]))[0][1] == label


def test_json_lines_keep_types_and_leave_text_untouched() -> None:
    encoder = RowEncoder(COLUMNS, ExportFormat.JSONL)
    data = encoder.header() + encoder.encode(
        [[1, "=1+1", "0.000000525", True, {"temperature": 0.7}], [2, None, "1.00", False, None]]
    )

    assert [orjson.loads(line) for line in data.splitlines()] == [
        {
            "id": 1,
            "label": "=1+1",
            "cost": "0.000000525",
            "ok": True,
            "metadata": {"temperature": 0.7},
        },
        {"id": 2, "label": None, "cost": "1.00", "ok": False, "metadata": None},
    ]


def test_an_unknown_format_names_the_choices() -> None:
    with pytest.raises(ValueError, match="format: expected csv or jsonl, got 'xml'"):
        ExportFormat.parse("xml")
