"""The limit settings: defaults, environment variables, and refusals that name the variable."""

from __future__ import annotations

import pytest

from graph.limits import QueryLimits
from settings import Settings, SettingsError


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert QueryLimits.from_settings(settings) == QueryLimits(
        max_depth=10, max_aliases=15, max_tokens=2_000, max_cost=10_000, max_nodes=20_000
    )
    assert settings.rate_limit_capacity == 100_000
    assert settings.rate_limit_refill_per_second == 2_000
    assert settings.rate_limit_window_seconds == 50
    assert settings.rate_limit_org_capacity == 800_000
    assert settings.rate_limit_pause_seconds == 1.0
    assert settings.rate_limit_ingest_capacity == 1_000_000
    assert settings.redis_url is None
    assert settings.request_timeout_seconds == 10.0
    assert settings.cors_origins == ()


def test_every_limit_is_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "AIZE_MAX_QUERY_DEPTH": "12",
            "AIZE_MAX_ALIASES": "30",
            "AIZE_MAX_QUERY_TOKENS": "5000",
            "AIZE_MAX_QUERY_COST": "20000",
            "AIZE_MAX_RESPONSE_NODES": "80000",
            "AIZE_RATE_LIMIT_CAPACITY": "100000",
            "AIZE_RATE_LIMIT_REFILL_PER_SECOND": "2000",
            "AIZE_RATE_LIMIT_ORG_CAPACITY": "300000",
            "AIZE_RATE_LIMIT_INGEST_CAPACITY": "2000000",
            "AIZE_REDIS_URL": "redis://127.0.0.1:6379/0",
            "AIZE_REQUEST_TIMEOUT_SECONDS": "2.5",
        }
    )
    assert QueryLimits.from_settings(settings) == QueryLimits(
        max_depth=12, max_aliases=30, max_tokens=5_000, max_cost=20_000, max_nodes=80_000
    )
    assert settings.rate_limit_capacity == 100_000
    assert settings.rate_limit_refill_per_second == 2_000
    assert settings.rate_limit_window_seconds == 50
    assert settings.rate_limit_org_capacity == 300_000
    assert settings.rate_limit_ingest_capacity == 2_000_000
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.request_timeout_seconds == 2.5


def test_the_organization_budget_defaults_to_eight_token_budgets() -> None:
    settings = Settings.from_env(
        {"AIZE_RATE_LIMIT_CAPACITY": "30000", "AIZE_MAX_EXPORT_COST": "30000"}
    )
    assert settings.rate_limit_org_capacity == 240_000


def test_the_pause_before_a_spent_budgets_refusal_is_read_and_may_be_zero() -> None:
    assert Settings.from_env({"AIZE_RATE_LIMIT_PAUSE_SECONDS": "0"}).rate_limit_pause_seconds == 0
    assert (
        Settings.from_env({"AIZE_RATE_LIMIT_PAUSE_SECONDS": "0.25"}).rate_limit_pause_seconds
        == 0.25
    )


def test_the_window_is_capacity_over_refill_in_whole_seconds() -> None:
    settings = Settings.from_env(
        {
            "AIZE_RATE_LIMIT_CAPACITY": "10000",
            "AIZE_RATE_LIMIT_REFILL_PER_SECOND": "3000",
            "AIZE_MAX_EXPORT_COST": "10000",
        }
    )
    assert settings.rate_limit_window_seconds == 3


def test_the_redis_url_is_not_shown_in_the_settings_repr() -> None:
    settings = Settings.from_env({"AIZE_REDIS_URL": "redis://:secret@127.0.0.1:6379/0"})
    assert "secret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AIZE_MAX_QUERY_DEPTH": "0"}, "AIZE_MAX_QUERY_DEPTH must be at least 1, got 0"),
        ({"AIZE_MAX_QUERY_TOKENS": "50"}, "AIZE_MAX_QUERY_TOKENS must be at least 100, got 50"),
        ({"AIZE_MAX_QUERY_COST": "lots"}, "AIZE_MAX_QUERY_COST must be a whole number, got 'lots'"),
        (
            {"AIZE_REQUEST_TIMEOUT_SECONDS": "0"},
            "AIZE_REQUEST_TIMEOUT_SECONDS must be a positive number of seconds, got '0'",
        ),
        (
            {"AIZE_REQUEST_TIMEOUT_SECONDS": "soon"},
            "AIZE_REQUEST_TIMEOUT_SECONDS must be a number of seconds, got 'soon'",
        ),
        (
            {"AIZE_RATE_LIMIT_CAPACITY": "5000"},
            "AIZE_RATE_LIMIT_CAPACITY (5000) must be at least AIZE_MAX_QUERY_COST (10000)",
        ),
        (
            {"AIZE_RATE_LIMIT_REFILL_PER_SECOND": "120000"},
            "AIZE_RATE_LIMIT_REFILL_PER_SECOND (120000) must be at most AIZE_RATE_LIMIT_CAPACITY "
            "(100000): a budget's window is capacity / refill seconds, at least 1",
        ),
        (
            {"AIZE_RATE_LIMIT_ORG_CAPACITY": "9999"},
            "AIZE_RATE_LIMIT_ORG_CAPACITY (9999) must be at least AIZE_MAX_QUERY_COST (10000)",
        ),
        (
            {"AIZE_RATE_LIMIT_ORG_CAPACITY": "many"},
            "AIZE_RATE_LIMIT_ORG_CAPACITY must be a whole number, got 'many'",
        ),
        (
            {"AIZE_RATE_LIMIT_INGEST_CAPACITY": "5000", "AIZE_BULK_MAX_RECORDS": "20000"},
            "AIZE_RATE_LIMIT_INGEST_CAPACITY (5000) must be at least AIZE_BULK_MAX_RECORDS and "
            "AIZE_MAX_QUERY_COST (20000)",
        ),
        (
            {"AIZE_RATE_LIMIT_CAPACITY": "20000"},
            "AIZE_RATE_LIMIT_CAPACITY (20000) must be at least AIZE_MAX_EXPORT_COST (50000)",
        ),
        (
            {"AIZE_RATE_LIMIT_ORG_CAPACITY": "40000"},
            "AIZE_RATE_LIMIT_ORG_CAPACITY (40000) must be at least AIZE_MAX_EXPORT_COST (50000)",
        ),
        (
            {"AIZE_REDIS_URL": "http://:secret@cache:6379"},
            "AIZE_REDIS_URL must start with redis://, rediss:// or unix://, got 'cache:6379'",
        ),
    ],
)
def test_unusable_values_are_refused_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)
    assert str(refused.value) == message
