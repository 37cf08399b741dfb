"""An app served by a real uvicorn on a free loopback port, for clients outside this process."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette


@asynccontextmanager
async def served(app: Starlette, *, access_log: bool = False) -> AsyncIterator[str]:
    """Yields the base URL (`http://127.0.0.1:PORT`) while uvicorn serves `app`; with
    `access_log`, uvicorn writes its access log (to the `uvicorn.access` logger)."""
    # A socket already listening: connections wait in its backlog until uvicorn serves them,
    # so no request races the server's start.
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="off", log_config=None, access_log=access_log)
    )
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
        listening.close()
