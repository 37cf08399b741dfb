"""The exports' filter parameters, derived from the UsageFilter declaration itself.

Every UsageFilter field is one query parameter (or CLI option) named as in GraphQL
(`apiKeyIds`, `from`, `minLatencyMs`, `providerModels`); a nested input's fields are
flattened under its name (`tags: {any, all}` is `tagsAny` and `tagsAll`). The field's type
says how a text is read: a list takes repeated and/or comma-separated items, an enum its
value's name (any case), a bool true/false, an int a whole number, a Decimal a plain decimal
number, a date-time ISO 8601 with an offset. The UsageFilter built is then resolved by
`to_log_filter`, the GraphQL argument's own validation, so an export accepts exactly the
filters the API does and refuses them with the same messages. A field added to UsageFilter
is an export parameter at once: nothing here lists them.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry

from graph.errors import BadUserInputError
from graph.inputs.filters import UsageFilter

if TYPE_CHECKING:
    from web.export_params import ExportParams

# A plain decimal number (no exponent, no NaN); sign and digits are checked by the filter.
_DECIMAL = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# A "+hh:mm" offset that arrived as " hh:mm" because the client left "+" unencoded.
_SPACED_OFFSET = re.compile(r"^(.*\d) (\d{2}(?::?\d{2})?)$")

EnumT = TypeVar("EnumT", bound=Enum)


@dataclass(frozen=True, slots=True)
class FilterParameter:
    """One query parameter: its name, the attribute path in UsageFilter ("tags", "any_"),
    the type of one value and whether it is a list."""

    name: str
    path: tuple[str, ...]
    kind: type
    many: bool


def _graphql_name(field: dataclasses.Field[Any]) -> str:
    # strawberry.field(name=...) sets graphql_name; otherwise the schema camel-cases.
    explicit = getattr(field, "graphql_name", None)
    if explicit:
        return str(explicit)
    head, *rest = field.name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _unwrap(hint: Any) -> tuple[Any, bool]:
    """(the type of one value, whether the field is a list) without `| None`."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        [hint] = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if typing.get_origin(hint) is list:
        return typing.get_args(hint)[0], True
    return hint, False


def _parameters(
    input_type: type, prefix: str = "", path: tuple[str, ...] = ()
) -> list[FilterParameter]:
    hints = typing.get_type_hints(input_type)
    found: list[FilterParameter] = []
    for field in dataclasses.fields(input_type):
        kind, many = _unwrap(hints[field.name])
        name = _graphql_name(field)
        name = prefix + name[:1].upper() + name[1:] if prefix else name
        if dataclasses.is_dataclass(kind) and isinstance(kind, type):
            found += _parameters(kind, name, (*path, field.name))
        else:
            found.append(FilterParameter(name, (*path, field.name), kind, many))
    return found


FILTER_FIELDS: tuple[FilterParameter, ...] = tuple(_parameters(UsageFilter))
FILTER_PARAMETERS = frozenset(parameter.name for parameter in FILTER_FIELDS)


def usage_filter(params: ExportParams) -> UsageFilter:
    """The UsageFilter the filter parameters describe (resolve it with `to_log_filter`);
    BadUserInputError naming the parameter whose text is not of the field's type."""
    values: dict[tuple[str, ...], object] = {}
    for parameter in FILTER_FIELDS:
        if parameter.many:
            items = params.many(parameter.name)
            if items is not None:
                values[parameter.path] = [_value(parameter, item) for item in items]
            continue
        text = params.one(parameter.name)
        if text is not None:
            values[parameter.path] = _value(parameter, text)
    built: UsageFilter = _build(UsageFilter, values, ())
    return built


def _build(input_type: type, values: dict[tuple[str, ...], object], path: tuple[str, ...]) -> Any:
    """An instance of `input_type` with the values under `path` (a nested input only when
    one of its parameters was given)."""
    hints = typing.get_type_hints(input_type)
    arguments: dict[str, object] = {}
    for field in dataclasses.fields(input_type):
        here = (*path, field.name)
        kind, _ = _unwrap(hints[field.name])
        if dataclasses.is_dataclass(kind) and isinstance(kind, type):
            if any(key[: len(here)] == here for key in values):
                arguments[field.name] = _build(kind, values, here)
        elif here in values:
            arguments[field.name] = values[here]
    return input_type(**arguments)


def _value(parameter: FilterParameter, text: str) -> object:
    """One value of the parameter's type read from its text."""
    name, kind = parameter.name, parameter.kind
    if kind is bool:
        return boolean(name, text)
    if kind is int:
        return whole_number(name, text)
    if kind is Decimal:
        if not _DECIMAL.fullmatch(text):
            raise BadUserInputError(f"{name}: expected a decimal number (e.g. 0.25), got {text!r}")
        return Decimal(text)
    if kind is datetime:
        return instant(name, text)
    if kind is strawberry.ID:
        return strawberry.ID(text)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return enum_member(name, text, kind)
    return text


def boolean(name: str, value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise BadUserInputError(f"{name}: expected true or false, got {value!r}")


def whole_number(name: str, value: str) -> int:
    if not re.fullmatch(r"-?[0-9]{1,18}", value):
        raise BadUserInputError(f"{name}: expected a whole number, got {value!r}")
    return int(value)


def instant(name: str, value: str) -> datetime:
    """An ISO 8601 date-time ("Z" or "+02:00"); naive ones are refused later by the filter,
    with the same message as in GraphQL."""
    spaced = _SPACED_OFFSET.match(value)
    if spaced:
        value = f"{spaced.group(1)}+{spaced.group(2)}"
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise BadUserInputError(
            f"{name}: {value!r} is not an ISO 8601 date-time (e.g. 2024-05-01T00:00:00Z)"
        ) from None


def enum_member(name: str, value: str, enum: type[EnumT]) -> EnumT:
    for member in enum:
        if member.name == value.upper():
            return member
    choices = ", ".join(member.name for member in enum)
    raise BadUserInputError(f"{name}: expected one of {choices}, got {value!r}")
