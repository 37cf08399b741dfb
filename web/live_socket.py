"""graphql-transport-ws connections: the token in `connection_init`, limits, keep-alive,
periodic re-authentication and slow-consumer closing, on strawberry's protocol handler.

Close codes (all from the protocol's or RFC 6455's lists):
- 4403 Forbidden: missing, bad or revoked token, or the token's member was removed or had
  their role changed (reconnect with a valid token for the new scope);
- 1009 Message Too Big: a client message over AIZE_MAX_SUBSCRIPTION_MESSAGE_BYTES;
- 1013 Try Again Later: a slow consumer (more than AIZE_SUBSCRIPTION_QUEUE_MESSAGES waiting);
- 1000 Normal Closure: idle (no subscription for AIZE_SUBSCRIPTION_IDLE_SECONDS) or no
  message at all (not even a pong) for two keep-alive intervals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable, Mapping
from functools import partial
from json import JSONDecodeError
from typing import Any

from starlette.websockets import WebSocketDisconnect, WebSocketState
from starlette.websockets import WebSocketDisconnected as SocketAlreadyClosed
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import (
    NonJsonMessageReceived,
    NonTextMessageReceived,
    WebSocketDisconnected,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from auth.tokens import TokenError, authenticate
from auth.viewer import Viewer
from graph.context import Context, LiveSession
from settings import Settings

log = logging.getLogger("aize.live")

CLOSE_FORBIDDEN = 4403
CLOSE_TOO_BIG = 1009
CLOSE_SLOW_CONSUMER = 1013
CLOSE_NORMAL = 1000


def _settings_of(context: Context) -> Settings:
    settings = getattr(context.request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else Settings()


class BoundedWebSocketAdapter(ASGIWebSocketAdapter):
    """Reads client messages, closing with 1009 on one over the byte limit."""

    def __init__(self, view: Any, request: Any, response: Any) -> None:
        super().__init__(view, request, response)
        self.max_bytes: int = getattr(view, "max_message_bytes", 64 * 1024)
        self.last_message_at = time.monotonic()

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object]:
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                self.last_message_at = time.monotonic()
                if len(text.encode()) > self.max_bytes:
                    await self.close(CLOSE_TOO_BIG, f"Message over {self.max_bytes} bytes")
                    return
                try:
                    yield self.view.decode_json(text)
                except (JSONDecodeError, ValueError) as exc:
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from exc
        except KeyError as exc:
            raise NonTextMessageReceived from exc
        except WebSocketDisconnect:
            pass

    async def send_json(self, message: Mapping[str, object]) -> None:
        # Text frames: the protocol's messages are JSON text (orjson encodes to bytes).
        encoded = self.view.encode_json(message)
        await self.send_encoded(encoded.decode() if isinstance(encoded, bytes) else encoded)

    async def send_encoded(self, text: str) -> None:
        """Send one protocol message already encoded as JSON text."""
        try:
            await self.ws.send_text(text)
        except (WebSocketDisconnect, SocketAlreadyClosed) as exc:
            # The peer has gone, or this side has already sent its close frame (a push or a
            # pong racing the close): the protocol handler's "disconnected", never an error.
            raise WebSocketDisconnected from exc


def _text(encoded: str | bytes) -> str:
    return encoded.decode() if isinstance(encoded, bytes) else encoded


def _encoded(encode: Callable[[object], str | bytes], value: object) -> str:
    return _text(encode(value))


# The last pushes' encoded `data`: id(data) -> (data, its JSON text). A push
# reaches all its subscribers within moments, so a few hundred entries cover every hub.
_ENCODED: OrderedDict[int, tuple[object, str]] = OrderedDict()
_ENCODED_ENTRIES = 256


def _encoded_data(data: object, encode: Callable[[], str]) -> str:
    seen = _ENCODED.get(id(data))
    if seen is not None and seen[0] is data:
        return seen[1]
    text = encode()
    _ENCODED[id(data)] = (data, text)
    if len(_ENCODED) > _ENCODED_ENTRIES:
        _ENCODED.popitem(last=False)
    return text


def _credentials(payload: Mapping[str, Any]) -> str | None:
    for name in ("authorization", "Authorization"):
        value = payload.get(name)
        if isinstance(value, str):
            return value
    return None


class LiveTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Authenticates in connection_init; each subscribe gets its own Context."""

    viewer: Viewer | None = None
    authorization: str | None = None
    supervisor: asyncio.Task[None] | None = None

    def _session(self) -> LiveSession:
        return LiveSession(close=self._close_soon)

    def _close_soon(self, code: int, reason: str) -> None:
        task = asyncio.get_running_loop().create_task(self._close(code, reason))
        task.add_done_callback(self._task_done)

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(code=code, reason=reason)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload") or {}
        if not self.connection_init_received and isinstance(payload, dict):
            self.authorization = _credentials(payload)
            try:
                self.viewer = await authenticate(self.authorization)
            except TokenError as exc:
                self.connection_init_received = True
                if self.connection_init_timeout_task:
                    self.connection_init_timeout_task.cancel()
                await self.websocket.close(code=CLOSE_FORBIDDEN, reason=f"Forbidden: {exc.reason}")
                return
            self.context = self._fresh_context()
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.supervisor is None:
            self.supervisor = asyncio.create_task(self._supervise())
            self.supervisor.add_done_callback(self._task_done)

    def _fresh_context(self) -> Context:
        assert self.viewer is not None
        return Context(
            request=self.context.request, response=None, viewer=self.viewer, live=self._session()
        )

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        # Each operation its own context: its own cost report, loaders and "now".
        if self.viewer is not None:
            self.context = self._fresh_context()
        await super().handle_subscribe(message)

    async def send_message(self, message: Message) -> None:
        limit = _settings_of(self.context).max_subscription_message_bytes
        if message["type"] == "next":
            text = self._next_text(message["id"], message["payload"])
            size = len(text.encode()) if not text.isascii() else len(text)
            if size > limit:
                operation_id = message["id"]
                await super().send_message(
                    {
                        "id": operation_id,
                        "type": "error",
                        "payload": [
                            {
                                "message": f"A message of {size} bytes is over the limit of "
                                f"{limit} (AIZE_MAX_SUBSCRIPTION_MESSAGE_BYTES): select fewer "
                                "fields or a narrower filter",
                                "extensions": {"code": "QUERY_TOO_COMPLEX"},
                            }
                        ],
                    }
                )
                self.operations.pop(operation_id, None)
                return
            adapter = self.websocket
            if isinstance(adapter, BoundedWebSocketAdapter):
                await adapter.send_encoded(text)
                return
        await super().send_message(message)

    def _next_text(self, operation_id: str, payload: Mapping[str, Any]) -> str:
        """The `next` message as JSON text. Its `data` is encoded once per push: subscribers
        whose results were shared (graph/library_executor.py's SharedResults) have the same
        `data` object; `errors` and `extensions` (the cost report) are their own."""
        encode = self.view.encode_json
        parts = []
        for name, value in payload.items():
            if name == "data" and value is not None:
                text = _encoded_data(value, partial(_encoded, encode, value))
            else:
                text = _text(encode(value))
            parts.append(f"{_text(encode(name))}:{text}")
        body = "{" + ",".join(parts) + "}"
        return f'{{"id":{_text(encode(operation_id))},"type":"next","payload":{body}}}'

    async def shutdown(self) -> None:
        if self.supervisor is not None:
            self.supervisor.cancel()
            # A supervisor that already ended on its own error (a ping to a client that had
            # just gone) must not turn a normal disconnect into an application error.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.supervisor
        await super().shutdown()

    async def _supervise(self) -> None:
        """Keep-alive pings, idle and dead-peer timeouts, and re-authentication."""
        settings = _settings_of(self.context)
        adapter = self.websocket
        tick = min(
            settings.subscription_keepalive_seconds, settings.subscription_auth_recheck_seconds
        )
        now = time.monotonic()
        next_ping = now + settings.subscription_keepalive_seconds
        next_check = now + settings.subscription_auth_recheck_seconds
        busy_at = now
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            if self.operations:
                busy_at = now
            elif now - busy_at >= settings.subscription_idle_seconds:
                await self._close(CLOSE_NORMAL, "Idle: no subscription open")
                return
            last_heard = getattr(adapter, "last_message_at", now)
            if now - last_heard > 2 * settings.subscription_keepalive_seconds + tick:
                await self._close(CLOSE_NORMAL, "No answer to keep-alive pings")
                return
            if now >= next_check:
                next_check = now + settings.subscription_auth_recheck_seconds
                reason = await self._still_allowed()
                if reason is not None:
                    await self._close(CLOSE_FORBIDDEN, f"Forbidden: {reason}")
                    return
            if now >= next_ping:
                next_ping = now + settings.subscription_keepalive_seconds
                if not await self._ping():
                    return

    async def _ping(self) -> bool:
        """Send a keep-alive ping; False when the client has gone (the read loop, which
        sees the same disconnect, ends the connection)."""
        try:
            await super().send_message({"type": "ping"})
        except WebSocketDisconnected:
            return False
        return True

    async def _still_allowed(self) -> str | None:
        """None while the token still authenticates as the same viewer; else why not."""
        try:
            viewer = await authenticate(self.authorization)
        except TokenError as exc:
            return exc.reason
        current = self.viewer
        if current is None or (viewer.member_id, viewer.role, viewer.scopes) != (
            current.member_id,
            current.role,
            current.scopes,
        ):
            return "the token's member or role changed; reconnect"
        return None
