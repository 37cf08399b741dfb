"""Sending on a connection that is already closed is a disconnect, never an application error:
a push, pong or keep-alive ping can race the close frame (the peer gone, or this side closing
for idleness, a revoked token or a slow consumer). Starlette raises its own
`WebSocketDisconnected` (a RuntimeError) for a send after close; the adapter must turn it into
strawberry's, which the protocol handler treats as the end of the connection."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from starlette.types import Message
from starlette.websockets import WebSocket
from strawberry.http.exceptions import WebSocketDisconnected

from web.live_socket import BoundedWebSocketAdapter


class _View:
    max_message_bytes = 1024

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


async def _closed_socket() -> tuple[WebSocket, list[Message]]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {"type": "websocket", "path": "/graphql", "headers": []}
    socket = WebSocket(scope, receive, send)
    await socket.accept(subprotocol="graphql-transport-ws")
    await socket.close(code=1000, reason="Idle: no subscription open")
    return socket, sent


async def test_a_send_after_this_side_closed_is_a_disconnect() -> None:
    socket, sent = await _closed_socket()
    adapter = BoundedWebSocketAdapter(_View(), socket, socket)
    with pytest.raises(WebSocketDisconnected):
        await adapter.send_json({"type": "ping"})
    # Nothing went out after the close frame.
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.close"]
