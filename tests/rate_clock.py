"""The wall clock of the `limits` library's in-memory storage, set by the test.

The library takes no clock: its memory storage calls `time.time()` through its module's
`time` name. Tests replace that name (a library internal, not API) with this clock, so
budgets refill when the test says, without sleeping. Windows are aligned on multiples of
their length; the clock starts on such a multiple for every window length used here.
"""

from __future__ import annotations

from types import SimpleNamespace

import limits.aio.storage.memory as memory_storage
import pytest

START = 1_000_000_000.0


class LibraryClock:
    """Seconds since the epoch as the library's memory storage sees them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = START
        monkeypatch.setattr(memory_storage, "time", SimpleNamespace(time=self))

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def library_clock(monkeypatch: pytest.MonkeyPatch) -> LibraryClock:
    return LibraryClock(monkeypatch)
