"""The README's configuration table names every setting exactly once, with its default."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from settings import Settings, environment_variables

README = Path(__file__).resolve().parent.parent / "README.md"
_NAME = re.compile(r"`((?:AIZE|PROMETHEUS)_[A-Z0-9_]+)`")
_LITERAL = re.compile(r"^`([^`]*)`$")


def _rows() -> list[tuple[list[str], list[str]]]:
    """(variables, default cells) of each row of the table under "## Configuration"."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## Configuration") :]
    section = section[: section.index("\n## ", 1)]
    rows = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows.append((_NAME.findall(cells[0]), [part.strip() for part in cells[1].split(" / ")]))
    return rows


def _shown(value: object) -> str:
    """A default as the README writes it: `true`, `5` (not 5.0), `info`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_every_setting_is_in_the_readme_table_exactly_once() -> None:
    named = [name for names, _ in _rows() for name in names]
    settings = set(environment_variables().values())

    assert sorted(n for n in named if named.count(n) > 1) == []
    assert sorted(settings - set(named)) == []


def test_the_table_names_no_setting_that_does_not_exist() -> None:
    others = {n for names, _ in _rows() for n in names} - set(environment_variables().values())
    # Read outside Settings: where GraphiQL's files are, and prometheus-client's own variable.
    assert others == {"AIZE_GRAPHIQL_DIR", "PROMETHEUS_MULTIPROC_DIR"}


def test_the_tables_defaults_are_the_settings_defaults() -> None:
    variables = environment_variables()
    # Scalars only: a list's default reads "none" or "off" in the table.
    defaults = {
        variables[f.name]: f.default
        for f in dataclasses.fields(Settings)
        if isinstance(f.default, int | float | str) and variables[f.name].endswith(f.name.upper())
    }
    checked = 0
    for names, cells in _rows():
        if len(cells) != len(names):
            continue  # one phrase for the row (e.g. "unset (no email)"), not one per variable
        for name, cell in zip(names, cells, strict=True):
            literal = _LITERAL.match(cell)
            if name in defaults and literal is not None and defaults[name] is not None:
                assert literal.group(1) == _shown(defaults[name]), name
                checked += 1
    assert checked >= 40  # most rows state their defaults as literals
