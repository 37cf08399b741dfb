"""Descriptions for the values of schema enums that wrap storage enums.

`strawberry.enum(StorageEnum, ...)` exposes a Python enum the models own, whose members
cannot carry `strawberry.enum_value(description=...)`; `describe_values` gives each value
its description on the enum's strawberry definition instead, and refuses a mapping that
misses a value or names one the enum does not have (so a new value cannot go undescribed).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from strawberry.types.enum import StrawberryEnumDefinition


def describe_values(enum_type: type[Enum], descriptions: Mapping[str, str]) -> None:
    """Set the GraphQL description of every value of `enum_type` (already passed through
    `strawberry.enum`) from `descriptions`, keyed by GraphQL value name. ValueError when
    the names differ from the enum's."""
    definition = getattr(enum_type, "__strawberry_definition__", None)
    if not isinstance(definition, StrawberryEnumDefinition):
        raise TypeError(f"{enum_type.__name__} is not a strawberry enum")
    names = {value.name for value in definition.values}
    if names != set(descriptions):
        missing = sorted(names - set(descriptions))
        unknown = sorted(set(descriptions) - names)
        raise ValueError(
            f"{definition.name}: descriptions missing for {missing}, unknown values {unknown}"
        )
    for value in definition.values:
        value.description = descriptions[value.name]
