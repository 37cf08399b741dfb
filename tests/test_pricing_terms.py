"""pricing.terms: which markup and fee are in effect at an instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pricing.terms import PricingTerms, TermsTimeline

T0 = datetime(2026, 3, 1, tzinfo=UTC)
ORIGINAL = PricingTerms(2500, 10_000_000)
FIRST = PricingTerms(1000, 20_000_000, T0)
SECOND = PricingTerms(1000, 50_000_000, T0 + timedelta(days=1))


def test_each_instant_gets_the_latest_version_started_at_or_before_it() -> None:
    timeline = TermsTimeline(ORIGINAL, [SECOND, FIRST])
    micro = timedelta(microseconds=1)

    assert timeline.at(T0 - micro) == ORIGINAL
    assert timeline.at(T0) == FIRST
    assert timeline.at(T0 + timedelta(days=1) - micro) == FIRST
    assert timeline.at(T0 + timedelta(days=1)) == SECOND
    assert timeline.history() == [ORIGINAL, FIRST, SECOND]


def test_the_span_of_a_version_ends_where_the_next_begins() -> None:
    terms, start, end = TermsTimeline(ORIGINAL, [FIRST, SECOND]).span_at(T0 + timedelta(hours=5))

    assert (terms, start, end) == (FIRST, T0, T0 + timedelta(days=1))


def test_two_versions_at_one_instant_and_negative_terms_are_refused() -> None:
    with pytest.raises(ValueError, match="same instant"):
        TermsTimeline(ORIGINAL, [FIRST, PricingTerms(1, 1, T0)])
    with pytest.raises(ValueError, match="must not be negative"):
        PricingTerms(-1, 0)
