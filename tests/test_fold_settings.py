"""AIZE_ROLLUP_FOLDING and the folder's settings (ingestion/folding.py)."""

from __future__ import annotations

import pytest

from settings import Settings, SettingsError

POSTGRES = "postgres://postgres@127.0.0.1:5432/test"


def test_folding_defaults_to_the_backends_own_and_reads_the_folder_settings() -> None:
    default = Settings.from_env({"AIZE_DATABASE_URL": POSTGRES})
    configured = Settings.from_env(
        {
            "AIZE_DATABASE_URL": POSTGRES,
            "AIZE_ROLLUP_FOLDING": "Inline",
            "AIZE_FOLD_BATCH_ROWS": "2000",
            "AIZE_FOLD_INTERVAL_SECONDS": "0.25",
            "AIZE_FOLD_WORKERS": "4",
        }
    )

    assert (default.rollup_folding, default.fold_batch_rows, default.fold_interval_seconds) == (
        None,
        20_000,
        0.5,
    )
    assert default.fold_workers == 2
    assert (configured.rollup_folding, configured.fold_batch_rows) == ("inline", 2000)
    assert configured.fold_workers == 4
    assert configured.fold_interval_seconds == 0.25


def test_an_unknown_folding_mode_is_refused_with_the_variable_named() -> None:
    with pytest.raises(SettingsError, match="AIZE_ROLLUP_FOLDING must be deferred or inline"):
        Settings.from_env({"AIZE_DATABASE_URL": POSTGRES, "AIZE_ROLLUP_FOLDING": "later"})


def test_deferred_folding_is_refused_on_sqlite_which_folds_at_ingest() -> None:
    with pytest.raises(SettingsError, match="deferred needs PostgreSQL"):
        Settings.from_env({"AIZE_ROLLUP_FOLDING": "deferred"})
    assert Settings.from_env({"AIZE_ROLLUP_FOLDING": "inline"}).rollup_folding == "inline"


def test_a_fold_batch_of_zero_rows_is_refused() -> None:
    with pytest.raises(SettingsError, match="AIZE_FOLD_BATCH_ROWS must be at least 1"):
        Settings.from_env({"AIZE_FOLD_BATCH_ROWS": "0"})


def test_fold_workers_must_leave_pool_connections_to_requests() -> None:
    with pytest.raises(SettingsError, match="AIZE_FOLD_WORKERS must be at least 1"):
        Settings.from_env({"AIZE_FOLD_WORKERS": "0"})
    with pytest.raises(
        SettingsError, match=r"AIZE_FOLD_WORKERS \(4\) must be below AIZE_DB_POOL_MAX \(4\)"
    ):
        Settings.from_env({"AIZE_FOLD_WORKERS": "4", "AIZE_DB_POOL_MAX": "4"})
    assert Settings.from_env({"AIZE_FOLD_WORKERS": "3", "AIZE_DB_POOL_MAX": "4"}).fold_workers == 3
