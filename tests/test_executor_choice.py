"""graph/executor_choice.py: the fast executor runs only with the library versions it is
tested with and its internals present; otherwise, or with AIZE_FAST_EXECUTOR=false, the
service runs graphql-core's own executor (after one warning, never failing)."""

from __future__ import annotations

import logging
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from graph import executor_choice
from graph.execution import AizeExecutor
from graph.executor_choice import TESTED_VERSIONS, executor_class, fast_path_problem
from graph.library_executor import LibraryExecutor
from graph.schema import library_executor_schema, schema, schema_for
from settings import Settings, SettingsError
from web.app import create_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh_choice() -> object:
    """The once-per-process check forgotten before and after the test."""
    executor_choice._checked_fast_executor.cache_clear()
    yield None
    executor_choice._checked_fast_executor.cache_clear()


def test_the_installed_libraries_run_the_fast_executor() -> None:
    assert fast_path_problem() is None
    assert executor_class(fast=True) is AizeExecutor
    assert schema.execution_context_class is AizeExecutor


def test_the_switch_chooses_graphql_cores_executor() -> None:
    assert executor_class(fast=False) is LibraryExecutor
    assert Settings.from_env({}).fast_executor is True
    off = Settings.from_env({"AIZE_FAST_EXECUTOR": "false"})
    assert off.fast_executor is False
    assert schema_for(off) is library_executor_schema()
    assert library_executor_schema().execution_context_class is LibraryExecutor
    assert schema_for(Settings.from_env({})) is schema


def test_the_switch_refuses_a_value_that_is_not_a_boolean() -> None:
    with pytest.raises(SettingsError, match="AIZE_FAST_EXECUTOR must be true or false, got 'fast'"):
        Settings.from_env({"AIZE_FAST_EXECUTOR": "fast"})


def test_the_app_honours_the_switch(db: Settings) -> None:
    import dataclasses

    for fast, expected in ((True, AizeExecutor), (False, LibraryExecutor)):
        app = create_app(dataclasses.replace(db, fast_executor=fast), manage_database=False)
        graphql = next(route.endpoint for route in app.routes if route.path == "/graphql")
        assert graphql.graphql.schema.execution_context_class is expected


@pytest.mark.parametrize(
    ("installed", "problem"),
    [
        (
            {"graphql-core": "3.2.6", "strawberry-graphql": "0.341.3"},
            "graphql-core 3.2.6 is outside the tested range >=3.3.2,<3.4",
        ),
        (
            {"graphql-core": "3.4.0a1", "strawberry-graphql": "0.341.3"},
            "graphql-core 3.4.0a1 is outside the tested range >=3.3.2,<3.4",
        ),
        (
            {"graphql-core": "3.3.2", "strawberry-graphql": "0.326.1"},
            "strawberry-graphql 0.326.1 is outside the tested range >=0.341.3,<0.342",
        ),
        ({"graphql-core": "3.3.2"}, "strawberry-graphql is not installed"),
    ],
)
def test_versions_outside_the_tested_range_are_named(
    installed: dict[str, str], problem: str
) -> None:
    assert fast_path_problem(installed) == problem


def test_a_missing_internal_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        executor_choice,
        "REQUIRED_INTERNALS",
        (*executor_choice.REQUIRED_INTERNALS, ("graphql.execution.collect_fields", "Gone")),
    )
    assert fast_path_problem() == "graphql.execution.collect_fields.Gone is missing"


def test_an_unusable_fast_path_falls_back_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, fresh_choice: object
) -> None:
    monkeypatch.setattr(
        executor_choice,
        "_installed_versions",
        lambda: {"graphql-core": "3.2.6", "strawberry-graphql": "0.326.1"},
    )
    with caplog.at_level(logging.WARNING, logger="graph.executor_choice"):
        chosen = [executor_class(fast=True) for _ in range(3)]

    assert chosen == [LibraryExecutor] * 3
    assert [r.getMessage() for r in caplog.records] == [
        "fast executor off, using graphql-core's own executor: graphql-core 3.2.6 is outside "
        "the tested range >=3.3.2,<3.4 (set AIZE_FAST_EXECUTOR=false to choose it on purpose)"
    ]


def test_a_check_that_breaks_falls_back_instead_of_failing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, fresh_choice: object
) -> None:
    def broken() -> str | None:
        raise AttributeError("'StrawberryResolver' object has no attribute 'wrapped_func'")

    monkeypatch.setattr(executor_choice, "fast_path_problem", broken)
    with caplog.at_level(logging.WARNING, logger="graph.executor_choice"):
        assert executor_class(fast=True) is LibraryExecutor
    assert "checking it failed (AttributeError: " in caplog.records[0].getMessage()


def test_a_self_test_answer_that_differs_turns_the_fast_path_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import graph.executor_selftest as selftest

    answers = iter([({"sheet": None}, []), ({"sheet": {"title": "t"}}, [])])
    monkeypatch.setattr(selftest, "_answer", lambda _executor: next(answers))
    problem = fast_path_problem()
    assert problem is not None
    assert problem.startswith("a self-test query is answered differently: ")


def _pin(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"([a-z-]+)(.*)", requirement).groups()  # type: ignore[union-attr]
    return name, spec


def test_pyproject_pins_the_tested_ranges_and_the_lock_lies_inside_them() -> None:
    declared = dict(
        _pin(r)
        for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    )
    lock = dict(
        line.split("==", 1)
        for line in (ROOT / "requirements/lock.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    for package, (lowest, untested) in TESTED_VERSIONS.items():
        low, high = ".".join(map(str, lowest)), ".".join(map(str, untested))
        assert declared[package] == f">={low},<{high}", package
        assert fast_path_problem(lock) is None
        # What is installed is what the lock says (scripts/test.sh installs from it).
        assert version(package) == lock[package], package
