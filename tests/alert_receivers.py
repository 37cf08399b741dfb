"""Real local receivers for delivery tests: an HTTP server (asyncio streams, HTTP/1.1) and an
SMTP server (aiosmtpd), both on 127.0.0.1, recording what they receive. No mocks: deliveries
go over real sockets exactly as in production."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from settings import Settings


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def signature_is_valid(self, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(self.headers.get("x-aize-signature", ""), expected)


@dataclass
class WebhookReceiver:
    """An HTTP receiver answering every POST with `status`; stop() makes it unreachable,
    start() brings it back on the same port."""

    status: int = 200
    port: int = 0
    requests: list[ReceivedRequest] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/aize?token=s3cr3t-path-token"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            method, path, _ = (await reader.readline()).decode().split(" ", 2)
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(ReceivedRequest(method, path, headers, body))
            writer.write(
                f"HTTP/1.1 {self.status} Status\r\nContent-Length: 2\r\n"
                "Connection: close\r\n\r\nok".encode()
            )
            await writer.drain()
        finally:
            writer.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpReceiver:
    """An aiosmtpd server on 127.0.0.1 keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.recipients: list[list[str]] = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


# Fixtures for the alert tests: import receiver_fixture, smtp_fixture and settings_fixture
# into a test module to use `receiver`, `smtp` and `settings` there.


@pytest.fixture(name="receiver")
async def receiver_fixture() -> AsyncIterator[WebhookReceiver]:
    """A running webhook receiver answering 200."""
    webhook = WebhookReceiver()
    await webhook.start()
    yield webhook
    await webhook.stop()


@pytest.fixture(name="smtp")
def smtp_fixture() -> Iterator[SmtpReceiver]:
    """A running SMTP server."""
    server = SmtpReceiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture(name="settings")
def settings_fixture(db: Settings, smtp: SmtpReceiver) -> Settings:
    """Delivery to the local receivers: SMTP without TLS, webhooks to 127.0.0.1 allowed,
    three attempts at most."""
    return replace(
        db,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="alerts@aize.test",
        smtp_starttls=False,
        webhook_allow_private_networks=True,
        alert_max_attempts=3,
    )
