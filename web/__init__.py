"""The HTTP service: the Starlette app and its lifespan, the REST endpoints (ingest, directory,
exports, reports), the GraphQL-over-HTTP view and its WebSocket transport, the GraphiQL and
usage pages, and the HTTP middleware (body limit, security headers, secrets in URLs, 503s).
The GraphQL schema itself is `graph/`; nothing below this package imports it
(tests/test_layers.py).

Named `web`, not `http`: a top-level `http` package would shadow the standard library's
(`http.client`, `http.cookies`, `http.HTTPStatus`, used by uvicorn, httpx and the tests) for
everything run from the repository root, where the service's packages are importable.
"""
