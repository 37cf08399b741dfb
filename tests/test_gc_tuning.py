"""The collector is off only inside ingest's synchronous chunks, and restored as it was."""

from __future__ import annotations

import gc

from ingestion.gc_tuning import collections_deferred


def test_collections_deferred_turns_the_collector_off_and_back_on() -> None:
    assert gc.isenabled()
    with collections_deferred():
        assert not gc.isenabled()
        with collections_deferred():
            assert not gc.isenabled()
        # The inner block found it off and leaves it off.
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collections_deferred_restores_the_collector_after_an_exception() -> None:
    try:
        with collections_deferred():
            raise ValueError("bad record")
    except ValueError:
        pass
    assert gc.isenabled()
