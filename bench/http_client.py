"""A minimal HTTP/1.1 keep-alive client on asyncio streams, for loopback benchmarks.

A general client (httpx) spends about a millisecond of CPU per request, on the same two
cores as the service and the database; this one sends pre-built request bytes and parses
only the status line, Content-Length or chunked bodies, so nearly all measured time is the
service's. It refuses any host that is not loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

_LOOPBACK_NAMES = {"localhost"}


def loopback_address(url: str) -> tuple[str, int]:
    """(host, port) of an http:// URL on this machine's loopback; ValueError otherwise."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "http":
        raise ValueError(f"only http:// URLs are benchmarked, got {url!r}")
    loopback = host in _LOOPBACK_NAMES
    if not loopback:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
    if not loopback:
        raise ValueError(f"refusing to send load to {host!r}: loopback addresses only")
    return host, parts.port or 80


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes


class HttpConnection:
    """One keep-alive connection; requests on it are sequential."""

    def __init__(self, url: str) -> None:
        self.host, self.port = loopback_address(url)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self._reader, self._writer

    def request_bytes(
        self, path: str, body: bytes, headers: dict[str, str], method: str = "POST"
    ) -> bytes:
        """A complete request for `path`, POST unless `method` says otherwise (build once,
        send many times)."""
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    async def send(self, request: bytes) -> Response:
        """Send pre-built request bytes and read the whole response. A kept-alive
        connection the server closed while idle is reopened once, as browsers do."""
        reused = self._writer is not None
        try:
            return await self._send_once(request)
        except (ConnectionError, asyncio.IncompleteReadError) as error:
            closed_while_idle = isinstance(error, ConnectionError) or not error.partial
            if not (reused and closed_while_idle):
                raise
        return await self._send_once(request)

    async def _send_once(self, request: bytes) -> Response:
        reader, writer = await self._connect()
        try:
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status, length, chunked, close = _parse_head(head)
            if chunked:
                body = await _read_chunked(reader)
            else:
                body = await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            await self.close()
            raise
        if close:
            await self.close()
        return Response(status, body)

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def _parse_head(head: bytes) -> tuple[int, int, bool, bool]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, chunked, close = 0, False, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and value == "close":
            close = True
    return status, length, chunked, close


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
