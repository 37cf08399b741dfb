"""Webhook delivery: an HTTP POST of the stored JSON body, signed with HMAC-SHA256.

Headers: `X-Aize-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed by the secret>`,
`X-Aize-Timestamp` (Unix seconds of the attempt), `X-Aize-Event-Id` (the same on every
retry, for de-duplication). Any 2xx answer is delivered; redirects are not followed.

Tenants choose the URLs, so by default the host must resolve to public addresses only (no
loopback, private, link-local or reserved ones: the service's own network is not theirs to
probe), and the connection goes to the address that was checked, so a DNS answer that
changes between check and connect cannot slip past it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import socket
from dataclasses import dataclass
from datetime import datetime

import httpx

from alerts.attempt import AttemptOutcome, describe_exception

SIGNATURE_HEADER = "X-Aize-Signature"
TIMESTAMP_HEADER = "X-Aize-Timestamp"
EVENT_ID_HEADER = "X-Aize-Event-Id"
USER_AGENT = "aize-analytics-alerts/1"


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """What to POST: the URL, the signing secret, the body (sent as UTF-8) and its id."""

    url: str
    secret: str
    body: str
    event_id: str


class BlockedTargetError(Exception):
    """The URL's host resolves to an address webhooks may not reach."""


@dataclass(frozen=True, slots=True)
class _Pinned:
    url: httpx.URL
    host_header: str
    extensions: dict[str, str]


def sign(secret: str, body: bytes) -> str:
    """The X-Aize-Signature value: "sha256=" and the hex HMAC-SHA256 of `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post_webhook(
    client: httpx.AsyncClient,
    request: WebhookRequest,
    now: datetime,
    *,
    timeout_seconds: float,
    allow_private_networks: bool,
) -> AttemptOutcome:
    """POST once; the outcome carries the receiver's status code (its body is never read)."""
    body = request.body.encode()
    try:
        pinned = await _pin(httpx.URL(request.url), allow_private_networks)
    except BlockedTargetError as exc:
        return AttemptOutcome.failure(str(exc), permanent=True)
    except (OSError, UnicodeError) as exc:
        return AttemptOutcome.failure(f"cannot resolve the host: {describe_exception(exc)}")
    headers = {
        "Host": pinned.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(request.secret, body),
        TIMESTAMP_HEADER: str(int(now.timestamp())),
        EVENT_ID_HEADER: request.event_id,
    }
    try:
        # httpx's timeout is per phase; this bounds the whole exchange as well.
        async with (
            asyncio.timeout(timeout_seconds),
            client.stream(
                "POST",
                pinned.url,
                content=body,
                headers=headers,
                extensions=pinned.extensions,
                timeout=timeout_seconds,
            ) as response,
        ):
            status = response.status_code
    except (TimeoutError, httpx.TimeoutException):
        return AttemptOutcome.failure(f"no answer within {timeout_seconds:g} s")
    except httpx.HTTPError as exc:
        return AttemptOutcome.failure(describe_exception(exc))
    if 200 <= status < 300:
        return AttemptOutcome.success(status)
    return AttemptOutcome.failure(f"the receiver answered HTTP {status}", status)


async def _pin(url: httpx.URL, allow_private_networks: bool) -> _Pinned:
    host = url.host
    port = url.port or (443 if url.scheme == "https" else 80)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise OSError(f"no address for {host}")
    if not allow_private_networks:
        for address in addresses:
            if not address.is_global or address.is_multicast:
                raise BlockedTargetError(
                    f"refused: {host} resolves to the non-public address {address} "
                    "(AIZE_WEBHOOK_ALLOW_PRIVATE_NETWORKS)"
                )
    # IPv4 first: many servers have no IPv6 route out, and one address is all httpx tries.
    chosen = next((a for a in addresses if a.version == 4), addresses[0])
    default_port = 443 if url.scheme == "https" else 80
    host_header = host if port == default_port else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        host_header = f"[{host}]" if port == default_port else f"[{host}]:{port}"
    extensions = {"sni_hostname": host} if url.scheme == "https" else {}
    return _Pinned(url.copy_with(host=str(chosen)), host_header, extensions)
