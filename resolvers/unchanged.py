"""UNCHANGED: a field an update leaves out keeps its value (None means something else:
clear it, a team key, every model)."""

from __future__ import annotations

from enum import Enum

__all__ = ["UNCHANGED", "Unchanged"]


class Unchanged(Enum):
    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED
