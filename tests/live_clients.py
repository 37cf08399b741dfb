"""Subscription clients for tests: the Python `gql` client over graphql-transport-ws, and
a reader that waits for the next message with a deadline (never a sleep)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from gql import Client, gql
from gql.client import AsyncClientSession
from gql.transport.websockets import WebsocketsTransport
from websockets.exceptions import ConnectionClosed

# Each message is expected well within this (intervals are 0.2 s in tests/live_server.py).
MESSAGE_DEADLINE_SECONDS = 15


def transport(ws_url: str, token: str | None) -> WebsocketsTransport:
    payload = {} if token is None else {"authorization": f"Bearer {token}"}
    return WebsocketsTransport(
        url=ws_url,
        init_payload=payload,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        keep_alive_timeout=None,
    )


@asynccontextmanager
async def session(ws_url: str, token: str | None) -> AsyncIterator[AsyncClientSession]:
    client = Client(transport=transport(ws_url, token), fetch_schema_from_transport=False)
    async with client as connected:
        yield connected


class Subscription:
    """One subscription's messages, read in the background into a queue."""

    def __init__(
        self, live: AsyncClientSession, document: str, variables: dict[str, Any] | None = None
    ) -> None:
        self.messages: asyncio.Queue[dict[str, Any] | BaseException] = asyncio.Queue()
        self._task = asyncio.create_task(self._read(live, document, variables))

    async def _read(
        self, live: AsyncClientSession, document: str, variables: dict[str, Any] | None
    ) -> None:
        try:
            request = gql(document)
            request.variable_values = variables
            async for result in live.subscribe(request):
                await self.messages.put(result)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the test reads the failure as the next "message"
            await self.messages.put(exc)

    async def next(self) -> dict[str, Any]:
        """The next message; raises what ended the subscription instead, if it ended."""
        async with asyncio.timeout(MESSAGE_DEADLINE_SECONDS):
            message = await self.messages.get()
        if isinstance(message, BaseException):
            raise message
        return message

    async def failure(self) -> BaseException:
        """What ended the subscription (waits for it)."""
        async with asyncio.timeout(MESSAGE_DEADLINE_SECONDS):
            message = await self.messages.get()
        assert isinstance(message, BaseException), f"expected an error, got {message}"
        return message

    async def cancel(self) -> None:
        self._task.cancel()
        try:
            await self._task
        except BaseException:  # cancelled or already failed: either way it is over
            return


def close_code(failure: BaseException) -> int | None:
    """The close code the server sent, found in the failure's chain of causes."""
    seen: BaseException | None = failure
    while seen is not None:
        if isinstance(seen, ConnectionClosed) and seen.rcvd is not None:
            return seen.rcvd.code
        seen = seen.__cause__ or seen.__context__
    return None
