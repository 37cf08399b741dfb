"""Headless Chromium (Debian's `chromium`) through Playwright, with the network cut off.

Only 127.0.0.1 is reachable: Chromium's host resolver maps every other name to nothing, and
a Playwright route aborts (and records) any request to another host, so a page that needs a
CDN fails visibly. scripts/test.sh installs `chromium` with apt when it is missing; outside
CI a machine without it skips with that reason, under CI it fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Route, async_playwright

CHROMIUM_NAMES = ("chromium", "chromium-browser")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
OFFLINE_ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


def chromium_path() -> str:
    """The system Chromium; a missing one fails under CI and skips (with why) elsewhere."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    message = "Debian's chromium is not installed (scripts/test.sh installs it with apt)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; required under CI")
    pytest.skip(message)


@dataclass
class OfflineBrowser:
    """A browser context that reaches only this machine; `blocked` lists what it refused."""

    context: BrowserContext
    blocked: list[str] = field(default_factory=list)


@asynccontextmanager
async def offline_browser(*, timezone_id: str | None = None) -> AsyncIterator[OfflineBrowser]:
    """`timezone_id`: the browser's IANA zone (the machine's when None)."""
    executable = chromium_path()
    async with async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(
            executable_path=executable, args=OFFLINE_ARGS
        )
        try:
            context = await browser.new_context(timezone_id=timezone_id)
            offline = OfflineBrowser(context)

            async def only_local(route: Route) -> None:
                url = route.request.url
                if urlsplit(url).hostname in LOCAL_HOSTS or url.startswith("data:"):
                    await route.continue_()
                else:
                    offline.blocked.append(url)
                    await route.abort("internetdisconnected")

            await context.route("**/*", only_local)
            yield offline
        finally:
            await browser.close()
