"""Which provider (OpenAI, Anthropic, Google, ...) served a request, decided once at ingest
and stored on the log, so a later catalog change never moves history between providers.

The answer, first that applies: the gateway's `provider` field (it knows where it routed
the call, e.g. "azure" for a gpt-4o deployment); else the price catalog's provider of the
provider model, then of the alias (the same order pricing looks prices up); else
`UNKNOWN_PROVIDER`. Names are stored lower-case, as the catalog spells them ("openai").
"""

from __future__ import annotations

import re

from pricing.catalog import PriceCatalog

UNKNOWN_PROVIDER = "unknown"
# Bytes (= characters: the name is ASCII); the column is varchar(50), like model_price's.
MAX_PROVIDER_LENGTH = 50
# A provider name: lower-case ASCII letters and digits, inner '.', '_' or '-' (e.g.
# "openai", "aws-bedrock", "vertex_ai").
_PROVIDER_NAME = re.compile(r"[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?")


def provider_name_problem(name: str) -> str | None:
    """Why `name` (already lower-cased) is not a provider name, or None when it is one."""
    if not name:
        return "must not be empty"
    if len(name.encode()) > MAX_PROVIDER_LENGTH:
        return f"must be at most {MAX_PROVIDER_LENGTH} bytes, got {len(name.encode())}"
    if not _PROVIDER_NAME.fullmatch(name):
        return (
            f"{name[:60]!r} is not a provider name: letters, digits and inner '.', '_' or "
            "'-' only (e.g. \"openai\")"
        )
    return None


def normalize_provider(name: str) -> str:
    """`name` as stored and compared: surrounding spaces dropped, lower-case."""
    return name.strip().lower()


def resolve_provider(
    catalog: PriceCatalog, sent: str | None, provider_model: str, model: str
) -> str:
    """The provider to store for a request: the gateway's (`sent`, validated and
    normalized), else the catalog's for the provider model or the alias, else "unknown"."""
    if sent is not None:
        return sent
    found = catalog.provider_of(provider_model) or catalog.provider_of(model)
    return UNKNOWN_PROVIDER if found is None else normalize_provider(found)
