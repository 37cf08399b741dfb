"""Delivery targets: checking webhook URLs, email addresses and signing secrets, and masking
them for display (a webhook URL's path often is a credential, as Slack's are)."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2000
MAX_EMAIL_LENGTH = 320
SECRET_MIN_LENGTH = 16
SECRET_MAX_LENGTH = 200
# What a generated secret starts with, so people can tell it from their other secrets.
SECRET_PREFIX = "whsec_"

# One address, no display name: nothing that could add a recipient or a header line.
_EMAIL = re.compile(r"[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+\.[^@\s<>,;:\"()\[\]\\]+")
_SECRET = re.compile(r"[\x21-\x7e]+")


def check_webhook_url(url: str) -> str:
    """The URL, trimmed, if it is an absolute http(s) URL with a host; else ValueError."""
    cleaned = url.strip()
    if not cleaned:
        raise ValueError("must not be empty")
    if len(cleaned) > MAX_URL_LENGTH:
        raise ValueError(f"must be at most {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in cleaned):
        raise ValueError("must not contain spaces or control characters")
    try:
        parts = urlsplit(cleaned)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if parts.scheme.lower() not in {"http", "https"}:
        raise ValueError("must be an http:// or https:// URL")
    if not parts.hostname:
        raise ValueError("must name a host")
    if parts.fragment:
        raise ValueError("must not have a #fragment")
    return cleaned


def check_email(address: str) -> str:
    """The address, trimmed, if it is one plain address (user@domain.tld); else ValueError."""
    cleaned = address.strip()
    if len(cleaned) > MAX_EMAIL_LENGTH:
        raise ValueError(f"must be at most {MAX_EMAIL_LENGTH} characters")
    if not _EMAIL.fullmatch(cleaned):
        raise ValueError("must be one email address such as ops@example.com")
    return cleaned


def check_secret(secret: str) -> str:
    """The secret if it is 16 to 200 printable ASCII characters without spaces; else ValueError."""
    if not SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH:
        raise ValueError(
            f"must be {SECRET_MIN_LENGTH} to {SECRET_MAX_LENGTH} characters "
            "(leave it out to have one generated)"
        )
    if not _SECRET.fullmatch(secret):
        raise ValueError("must be printable ASCII without spaces")
    return secret


def generate_secret() -> str:
    """A new random signing secret: "whsec_" and 48 hex digits (192 bits)."""
    return SECRET_PREFIX + secrets.token_hex(24)


def secret_hint(secret: str) -> str:
    """The last four characters, enough to tell which secret is configured."""
    return "…" + secret[-4:]


def mask_webhook_url(url: str) -> str:
    """scheme://host[:port], with "/…" standing for any path or query (never shown)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "…"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    shown = f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")
    hidden = (parts.path not in {"", "/"}) or bool(parts.query)
    return shown + ("/…" if hidden else "/")
