"""Security headers on every HTTP response (ASGI middleware).

- `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY`
  and `Cache-Control: no-store` (answers carry tenants' money figures: no shared cache may
  keep them) on everything;
- `Content-Security-Policy`: `default-src 'none'; frame-ancestors 'none'` for the API's JSON
  answers; HTML (the GraphiQL page and the usage page, web/usage_page/) gets a policy
  that lets it load its scripts and styles from this origin only (served by the service
  itself, see web/graphiql/), run GraphiQL's own inline script (allowed by hash, not
  'unsafe-inline') and call back to this origin only;
- `Strict-Transport-Security` only when the request came over HTTPS (the ASGI scheme; behind
  a TLS-terminating proxy uvicorn takes it from X-Forwarded-Proto for trusted proxies,
  see FORWARDED_ALLOW_IPS), because browsers ignore HSTS over plain HTTP and sending it from
  a local http:// run would be meaningless.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_CSP = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"
_COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def ide_csp(html: str) -> str:
    """The Content-Security-Policy for the GraphiQL page `html` (its inline scripts by hash)."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        "default-src 'none'; "
        f"script-src 'self' {hashes}; "
        # GraphiQL sets element styles at run time; its fonts are data: URLs in its CSS.
        "style-src 'self' 'unsafe-inline'; "
        "font-src 'self' data:; "
        "img-src 'self' data:; "
        "connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


class SecurityHeaders:
    """Adds the headers above to each response, keeping any the app set itself."""

    def __init__(self, app: ASGIApp, *, html_csp: str) -> None:
        self.app = app
        self.html_csp = html_csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _COMMON.items():
                    headers.setdefault(name, value)
                is_html = headers.get("content-type", "").startswith("text/html")
                headers.setdefault("content-security-policy", self.html_csp if is_html else API_CSP)
                if https:
                    headers.setdefault("strict-transport-security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
