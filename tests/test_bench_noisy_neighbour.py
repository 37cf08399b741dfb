"""bench.noisy_neighbour's pure parts: the attack documents are the issue's and valid for
the schema, answers are labelled and classed as refusals or service time, and the verdict
holds the victim and the attacker to the target. No timing is asserted here."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from graphql import GraphQLSchema, build_schema, parse, validate

from bench.attack_documents import (
    MEASURES,
    attack_documents,
    attack_window,
    introspection_document,
    literal_body,
    trend_document,
    trend_export_path,
)
from bench.attacker import DocumentTally, is_refusal, outcome
from bench.http_client import Response
from bench.noisy_neighbour import AttackerFigures, PhaseFigures, p99_ratio, verdict_failures
from graph.schema import schema as service_schema

END = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema(service_schema.as_str())


def _query(body: bytes) -> str:
    query: str = orjson.loads(body)["query"]
    return query


def _phase(p99_ms: float, errors: dict[str, int] | None = None) -> PhaseFigures:
    return PhaseFigures(500, p99_ms / 2, p99_ms * 0.9, p99_ms, p99_ms * 1.5, errors or {})


def _attacker(served_share: float = 0.1, refusal_median_ms: float = 3.0) -> AttackerFigures:
    return AttackerFigures(1000, 990, served_share, refusal_median_ms)


def test_the_attack_window_is_the_60_days_before_the_data_end() -> None:
    start, end = attack_window(END)

    assert (start, end) == (datetime(2025, 12, 31, 12, 0, tzinfo=UTC), END)


def test_every_graphql_attack_document_is_valid_for_the_schema(schema: GraphQLSchema) -> None:
    documents = attack_documents(*attack_window(END))
    bodies = [d.body_for(1) for d in documents if d.path == "/graphql" and not d.literal_bytes]

    assert [d.name for d in documents] == [
        "trend by endpoint",
        "trend by model",
        "trend export",
        "introspection",
        "10 MB literal",
    ]
    assert len(bodies) == 3
    for body in [*bodies, literal_body(1, size=100)]:
        assert validate(schema, parse(_query(body))) == []


def test_the_trend_documents_ask_hourly_buckets_of_every_series_with_17_measures() -> None:
    document = parse(trend_document(*attack_window(END), "MODEL"))
    text = trend_document(*attack_window(END), "MODEL")

    assert len(MEASURES.split()) == 17
    assert "trend(granularity: HOUR, splitBy: MODEL, limit: 100)" in text
    assert "series { model buckets { start end totals { requests " in text
    assert '"2025-12-31T12:00:00+00:00"' in text and '"2026-03-01T12:00:00+00:00"' in text
    assert len(document.definitions) == 1


def test_the_introspection_document_repeats_the_types_list_under_15_aliases() -> None:
    text = introspection_document()

    assert text.count(": types { name fields { name args { name } type { name } } }") == 15
    assert text.startswith("{ __schema { a0: types") and "a14: types" in text


def test_each_literal_is_distinct_and_of_the_asked_size() -> None:
    first, second = literal_body(1, size=1000), literal_body(2, size=1000)
    literal = _query(first).split('models: ["', 1)[1].split('"', 1)[0]

    assert first != second
    assert len(literal) == 1000
    assert literal.startswith("000000000001AAAA")


def test_only_the_literal_document_changes_between_requests() -> None:
    documents = {d.name: d for d in attack_documents(*attack_window(END))}

    assert documents["trend by model"].body_for(1) == documents["trend by model"].body_for(2)
    assert documents["10 MB literal"].body_for(1) != documents["10 MB literal"].body_for(2)
    assert len(documents["10 MB literal"].body_for(1)) > 10_000_000


def test_the_trend_export_asks_60_days_of_hours_by_endpoint() -> None:
    parts = urlsplit(trend_export_path(*attack_window(END)))

    assert parts.path == "/export/usage/trend.csv"
    assert parse_qs(parts.query) == {
        "from": ["2025-12-31T12:00:00+00:00"],
        "to": ["2026-03-01T12:00:00+00:00"],
        "granularity": ["HOUR"],
        "splitBy": ["ENDPOINT"],
        "limit": ["100"],
    }


@pytest.mark.parametrize(
    ("status", "body", "label"),
    [
        (200, b'{"data": {"organization": {}}}', "200"),
        (200, b"start,end,endpoint\n" + b"x" * 100_000, "200"),
        (
            429,
            b'{"data": null, "errors": [{"message": "m", "extensions": {"code": "RATE_LIMITED"}}]}',
            "429 RATE_LIMITED",
        ),
        (
            200,
            b'{"data": null, "errors": [{"message": "m", "extensions": '
            b'{"code": "QUERY_TOO_COMPLEX", "timeoutSeconds": 10}}]}',
            "200 TIMEOUT",
        ),
        (413, b'{"error": {"code": "PAYLOAD_TOO_LARGE", "message": "m"}}', "413 PAYLOAD_TOO_LARGE"),
        (500, b"Internal Server Error", "500"),
    ],
)
def test_an_answer_is_labelled_by_status_and_error_code(
    status: int, body: bytes, label: str
) -> None:
    assert outcome(Response(status, body)) == label


@pytest.mark.parametrize(
    ("label", "refused"),
    [
        ("429 RATE_LIMITED", True),
        ("413 PAYLOAD_TOO_LARGE", True),
        ("400", True),
        ("200 QUERY_TOO_COMPLEX", True),
        ("200 BAD_USER_INPUT", True),
        ("200", False),
        ("200 TIMEOUT", False),
        ("200 INTERNAL", False),
        ("500", False),
        ("503 SERVICE_UNAVAILABLE", False),
        ("ConnectionResetError", False),
        ("unfinished", False),
    ],
)
def test_refusals_are_4xx_and_graphql_errors_other_than_timeouts(label: str, refused: bool) -> None:
    assert is_refusal(label) is refused


def test_the_attacker_figures_split_its_time_into_refusals_and_service() -> None:
    trend, literal = DocumentTally(), DocumentTally()
    trend.add("200", 3000.0, 5_000_000)
    trend.add("429 RATE_LIMITED", 2.0, 300)
    literal.add("413 PAYLOAD_TOO_LARGE", 40.0, 120)
    literal.add("200 TIMEOUT", 10_000.0, 200)
    literal.add("429 RATE_LIMITED", 6.0, 300)

    figures = AttackerFigures.of({"trend": trend, "literal": literal})

    assert (trend.count, trend.bytes_received, trend.max_ms()) == (2, 5_000_300, 3000.0)
    assert literal.outcomes == {"413 PAYLOAD_TOO_LARGE": 1, "200 TIMEOUT": 1, "429 RATE_LIMITED": 1}
    assert (figures.requests, figures.refusals) == (5, 3)
    # The refusals' median leaves out RATE_LIMITED (paused on purpose, no work): only the 413.
    assert figures.refusal_median_ms == 40.0
    assert figures.served_share == pytest.approx(13_000 / 13_048)


def test_an_attacker_that_sent_nothing_took_no_service_time() -> None:
    assert AttackerFigures.of({"trend": DocumentTally()}) == AttackerFigures(0, 0, 0.0, 0.0)


def test_the_ratio_is_p99_under_attack_over_p99_at_baseline() -> None:
    assert p99_ratio(_phase(40.0), _phase(70.0)) == pytest.approx(1.75)
    assert p99_ratio(PhaseFigures(0, 0, 0, 0, 0, {}), _phase(70.0)) == float("inf")


def test_a_victim_within_100_ms_and_twice_its_baseline_passes() -> None:
    assert verdict_failures(_phase(50.0), _phase(100.0), _attacker()) == []


def test_a_victim_p99_over_100_ms_fails_even_within_twice_its_baseline() -> None:
    failures = verdict_failures(_phase(80.0), _phase(120.0), _attacker())

    assert failures == ["victim p99 under attack 120.0 ms > 100 ms"]


def test_a_victim_p99_over_twice_its_baseline_fails_even_under_100_ms() -> None:
    failures = verdict_failures(_phase(20.0), _phase(50.0), _attacker())

    assert failures == ["victim p99 under attack is 2.5x its baseline (> 2x)"]


def test_victim_errors_in_either_phase_fail() -> None:
    failures = verdict_failures(_phase(20.0, {"HTTP 429": 3}), _phase(20.0), _attacker())

    assert failures == ["victim errors in the baseline phase: {'HTTP 429': 3}"]


def test_an_attacker_served_more_than_refused_fails() -> None:
    failures = verdict_failures(_phase(20.0), _phase(20.0), _attacker(served_share=0.6))

    assert failures == ["60% of the attacker's time went to answers that were not refusals (> 50%)"]


def test_slow_refusals_fail() -> None:
    failures = verdict_failures(_phase(20.0), _phase(20.0), _attacker(refusal_median_ms=4500.0))

    assert failures == ["the attacker's refusals took 4500 ms (median) > 100 ms"]


def test_a_victim_without_answers_fails() -> None:
    silent = PhaseFigures(0, 0.0, 0.0, 0.0, 0.0, {"unfinished at the deadline": 80})

    failures = verdict_failures(_phase(20.0), silent, _attacker())

    assert failures[0] == "the victim got no answer in a phase"
    assert "victim errors in the attack phase: {'unfinished at the deadline': 80}" in failures
