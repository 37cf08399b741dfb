"""The kinds of value a setting holds, as annotations pydantic checks, and the wording of a
refusal: every message names the environment variable and says what is wrong with it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field
from pydantic_core import ErrorDetails

ENV_PREFIX = "AIZE_"


class SettingsError(ValueError):
    """A configuration value is unusable; the message names the variable."""


def variable(field_name: str) -> str:
    """The environment variable a `Settings` field is read from: AIZE_ and its name in
    capitals (unless the field says otherwise with `ReadFrom`)."""
    return ENV_PREFIX + field_name.upper()


class ReadFrom:
    """Field metadata: the field is read from `name` instead of its own variable."""

    def __init__(self, name: str) -> None:
        self.name = name


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _lowered(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _stripped(value: Any) -> Any:
    return (value.strip() or None) if isinstance(value, str) else value


# true/false, 1/0, yes/no, on/off (any case, blanks around ignored).
Switch = Annotated[bool, BeforeValidator(_lowered)]
Whole = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(ge=1)]
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
SecondsOrZero = Annotated[float, Field(ge=0, allow_inf_nan=False)]
# "a, b ,": ("a", "b").
CommaList = Annotated[tuple[str, ...], BeforeValidator(_comma_list)]
# Surrounding blanks dropped; blank is unset.
Stripped = Annotated[str | None, BeforeValidator(_stripped)]
LogLevel = Annotated[
    Literal["debug", "info", "warning", "error", "critical"], BeforeValidator(_lowered)
]
LogFormat = Annotated[Literal["text", "json"], BeforeValidator(_lowered)]
# AIZE_ROLLUP_FOLDING (ingestion/folding.py).
FoldingMode = Annotated[Literal["deferred", "inline"], BeforeValidator(_lowered)]


def refusal(error: ErrorDetails, is_seconds: bool) -> str:
    """pydantic's complaint about one variable as a sentence naming it; `is_seconds` for a
    float field (a duration)."""
    context = error.get("ctx", {})
    if error["type"] == "value_error" and isinstance(context.get("error"), SettingsError):
        return str(context["error"])  # a check of ours, worded already
    name = variable(str(error["loc"][0]))
    raw, kind = error["input"], error["type"]
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return f"{name} must be a whole number, got {raw!r}"
    if kind in {"float_parsing", "float_type"}:
        return f"{name} must be a number of seconds, got {raw!r}"
    if kind in {"greater_than", "finite_number"} or (kind == "greater_than_equal" and is_seconds):
        zero = "0 or " if kind == "greater_than_equal" else ""
        return f"{name} must be {zero}a positive number of seconds, got {raw!r}"
    if kind == "greater_than_equal":
        return f"{name} must be at least {context['ge']}, got {raw}"
    if kind in {"bool_parsing", "bool_type"}:
        return f"{name} must be true or false, got {raw!r}"
    if kind == "literal_error":
        return f"{name} must be {str(context['expected']).replace(chr(39), '')}, got {raw!r}"
    return f"{name}: {error['msg']}, got {raw!r}"
