"""Screenshots of the usage page for each demo role: docs/usage-page-{owner,admin,member}.png.

Seeds the demo into a fresh SQLite file, runs `aize-analytics serve` on a free port, opens
/usage/ in headless Chromium (the network cut off, as in tests/browser.py) with each role's
token and saves a PNG of the page (down to the first log rows) once it has loaded. Run it
again after changing the page:

    .venv/bin/python scripts/usage_page_screenshots.py [--requests 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import OFFLINE_ARGS, chromium_path  # noqa: E402

ROLES = ("owner", "admin", "member")
VIEWPORT = {"width": 1440, "height": 900}  # a laptop screen
# The page down to the first rows of the logs table (the whole table makes PNGs of ~1 MB).
SHOT_HEIGHT = 1900


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _shoot(base: str, tokens: dict[str, str], out_dir: Path) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=OFFLINE_ARGS
        )
        try:
            for role in ROLES:
                context = await browser.new_context(viewport=VIEWPORT)
                page = await context.new_page()
                await page.goto(f"{base}/usage/")
                await page.get_by_label("Access token").fill(tokens[role])
                await page.get_by_role("button", name="Open").click()
                await page.wait_for_selector("body[data-state=ready]", timeout=60_000)
                # The first log's details open, to show the expandable metadata.
                await page.locator(".details-toggle").first.click()
                path = out_dir / f"usage-page-{role}.png"
                height = await page.evaluate("document.documentElement.scrollHeight")
                clip = {
                    "x": 0,
                    "y": 0,
                    "width": VIEWPORT["width"],
                    "height": min(height, SHOT_HEIGHT),
                }
                await page.screenshot(path=str(path), full_page=True, clip=clip)
                print(f"{role}: {path.relative_to(ROOT)}")
                await context.close()
        finally:
            await browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000, help="demo request logs")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where PNGs go")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "cli.main"]
    with tempfile.TemporaryDirectory() as work:
        env = {
            **os.environ,
            "AIZE_DATABASE_URL": f"sqlite://{Path(work) / 'demo.sqlite3'}",
            "AIZE_ALERT_WORKER": "false",
        }
        seeded = subprocess.run(
            [*cli, "demo", "--requests", str(args.requests), "--json"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        tokens = json.loads(seeded.stdout)
        port = _free_port()
        server = subprocess.Popen(
            [*cli, "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert server.stdout is not None
            for line in server.stdout:
                if "Uvicorn running on" in line:
                    break
            else:
                raise SystemExit("the service did not start")
            asyncio.run(_shoot(f"http://127.0.0.1:{port}", tokens, args.out))
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
