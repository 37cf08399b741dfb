"""Settings.from_env: each field read from its AIZE_ variable and checked by pydantic."""

from __future__ import annotations

import pytest

from settings import Settings, SettingsError, environment_variables


def test_no_variables_give_the_defaults() -> None:
    assert Settings.from_env({}) == Settings()


def test_an_empty_variable_counts_as_unset() -> None:
    env = {"AIZE_PORT": "", "AIZE_HOST": "", "AIZE_LOG_LEVEL": "", "AIZE_ALERT_WORKER": ""}

    assert Settings.from_env(env) == Settings()


def test_each_field_reads_the_variable_named_after_it() -> None:
    variables = environment_variables()

    assert variables["max_query_cost"] == "AIZE_MAX_QUERY_COST"
    assert variables["subscription_queue_messages"] == "AIZE_SUBSCRIPTION_QUEUE_MESSAGES"
    # The one exception: whether the scheduler runs is read from the schedule itself.
    assert variables["reports_scheduler_on"] == "AIZE_REPORTS_SCHEDULE"
    assert len(variables) == len(set(variables.values())) + 1


def test_values_are_read_as_their_type() -> None:
    settings = Settings.from_env(
        {
            "AIZE_PORT": "9000",
            "AIZE_ALERT_POLL_SECONDS": "0.5",
            "AIZE_OTEL_TRACES": " Yes ",
            "AIZE_LOG_LEVEL": " DEBUG ",
            "AIZE_CORS_ORIGINS": "https://a.example, https://b.example ,",
            "AIZE_REPORTS_SCHEDULE": "monthly, weekly",
        }
    )

    assert settings.port == 9000
    assert settings.alert_poll_seconds == 0.5
    assert settings.otel_traces is True
    assert settings.log_level == "debug"
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert (settings.reports_schedule, settings.reports_scheduler_on) == (
        ("weekly", "monthly"),
        True,
    )


def test_the_organization_budget_follows_the_token_budget_unless_set() -> None:
    assert Settings.from_env({"AIZE_RATE_LIMIT_CAPACITY": "200000"}).rate_limit_org_capacity == (
        1_600_000
    )
    assert (
        Settings.from_env(
            {"AIZE_RATE_LIMIT_CAPACITY": "200000", "AIZE_RATE_LIMIT_ORG_CAPACITY": "300000"}
        ).rate_limit_org_capacity
        == 300_000
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"AIZE_ALERT_POLL_SECONDS": "inf"},
            "AIZE_ALERT_POLL_SECONDS must be a positive number of seconds, got 'inf'",
        ),
        (
            {"AIZE_RATE_LIMIT_PAUSE_SECONDS": "-0.5"},
            "AIZE_RATE_LIMIT_PAUSE_SECONDS must be 0 or a positive number of seconds, got '-0.5'",
        ),
        (
            {"AIZE_LOG_LEVEL": "loud"},
            "AIZE_LOG_LEVEL must be debug, info, warning, error or critical, got 'loud'",
        ),
        ({"AIZE_MAX_ALIASES": "-1"}, "AIZE_MAX_ALIASES must be at least 0, got -1"),
    ],
)
def test_unusable_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)

    assert str(refused.value) == message
