"""A real HTTP server (uvicorn) for the app, inside the test's event loop, on a free port.

For clients that need a socket (a browser): the app runs in the same loop as the test's
database connections, so it uses them as the in-process ASGI client would.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette

STARTUP_DEADLINE_SECONDS = 10.0


@asynccontextmanager
async def live_server(app: Starlette) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 (a port the OS picks); yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(STARTUP_DEADLINE_SECONDS):
            while not server.started:
                if task.done():
                    task.result()  # raises why it stopped
                await asyncio.sleep(0.01)  # a poll with a deadline, not a synchronization sleep
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
