"""Alert settings (AIZE_ALERT_*, AIZE_WEBHOOK_*, AIZE_SMTP_*), target checks and masking, the
backoff schedule, and `aize-analytics alerts run-once`."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from alerts.delivery import backoff
from alerts.targets import check_email, check_webhook_url, mask_webhook_url
from alerts.webhook import sign
from settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parent.parent


def test_alert_settings_default_to_a_running_worker_and_no_email() -> None:
    settings = Settings.from_env({})

    assert settings.alert_worker is True
    assert settings.alert_poll_seconds == 60.0
    assert settings.alert_max_attempts == 10
    assert settings.webhook_timeout_seconds == 10.0
    assert settings.webhook_allow_private_networks is False
    assert settings.smtp_host is None


def test_smtp_settings_are_read_and_the_password_is_never_printed() -> None:
    settings = Settings.from_env(
        {
            "AIZE_SMTP_HOST": "smtp.example.com",
            "AIZE_SMTP_PORT": "2525",
            "AIZE_SMTP_USER": "alerts",
            "AIZE_SMTP_PASSWORD": "hunter2-very-secret",
            "AIZE_SMTP_FROM": "Aize <alerts@example.com>",
            "AIZE_SMTP_STARTTLS": "false",
            "AIZE_ALERT_WORKER": "off",
            "AIZE_ALERT_POLL_SECONDS": "15",
            "AIZE_ALERT_MAX_ATTEMPTS": "4",
        }
    )

    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == (
        "smtp.example.com",
        2525,
        False,
    )
    assert (settings.alert_worker, settings.alert_poll_seconds, settings.alert_max_attempts) == (
        False,
        15.0,
        4,
    )
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"AIZE_SMTP_HOST": "smtp.example.com"},
            "AIZE_SMTP_FROM is required when AIZE_SMTP_HOST is set",
        ),
        (
            {"AIZE_SMTP_HOST": "smtp.example.com", "AIZE_SMTP_FROM": "nobody"},
            "AIZE_SMTP_FROM must be an email address, got 'nobody'",
        ),
        (
            {"AIZE_SMTP_USER": "alerts"},
            "AIZE_SMTP_USER and AIZE_SMTP_PASSWORD must be set together",
        ),
        ({"AIZE_ALERT_MAX_ATTEMPTS": "0"}, "AIZE_ALERT_MAX_ATTEMPTS must be at least 1, got 0"),
        ({"AIZE_ALERT_WORKER": "maybe"}, "AIZE_ALERT_WORKER must be true or false, got 'maybe'"),
        (
            {"AIZE_WEBHOOK_TIMEOUT_SECONDS": "-1"},
            "AIZE_WEBHOOK_TIMEOUT_SECONDS must be a positive number of seconds, got '-1'",
        ),
    ],
)
def test_bad_alert_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env(env)

    assert str(error.value) == message


def test_retries_back_off_from_thirty_seconds_doubling_up_to_an_hour() -> None:
    waits = [backoff(attempt) for attempt in range(1, 10)]

    assert waits == [timedelta(seconds=s) for s in (30, 60, 120, 240, 480, 960, 1920, 3600, 3600)]


def test_the_signature_is_the_hex_hmac_sha256_of_the_raw_body() -> None:
    # A known answer, computed once with the standard library (hmac, hashlib.sha256).
    assert sign("key", b'{"a":1}') == (
        "sha256=88a67f24bbcdaed0e6c997404bb79a743baf44c6bab2f4c27328e3009d22e342"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T000/B000/XXXX", "https://hooks.slack.com/…"),
        ("https://example.com", "https://example.com/"),
        ("http://user:pw@example.com:8080/?token=abc", "http://example.com:8080/…"),
        ("https://[2001:db8::1]/hook", "https://[2001:db8::1]/…"),
    ],
)
def test_webhook_urls_are_shown_without_path_query_or_credentials(url: str, shown: str) -> None:
    assert mask_webhook_url(check_webhook_url(url)) == shown


@pytest.mark.parametrize(
    "address", ["", "ops", "ops@localhost", "a@b.co, c@d.co", "Ops <ops@acme.test>", "o ps@a.io"]
)
def test_only_one_plain_email_address_is_accepted(address: str) -> None:
    with pytest.raises(ValueError, match="must be one email address"):
        check_email(address)


def test_alerts_run_once_prints_what_it_did(tmp_path: Path) -> None:
    environment = {
        **os.environ,
        "AIZE_DATABASE_URL": f"sqlite://{tmp_path / 'alerts.sqlite3'}",
        "PYTHONPATH": str(ROOT),
    }

    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "alerts", "run-once"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == ("checked 0 rules, fired 0 alerts; delivered 0, retrying 0, failed 0\n")
