"""Waiting for a condition in tests: poll it with a deadline, never sleep a guessed time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def until(what: str, check: Callable[[], Awaitable[T | None]], seconds: float = 30) -> T:
    """Poll `check` until it returns something truthy, and return that; AssertionError naming
    `what` after `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        await asyncio.sleep(0.05)
