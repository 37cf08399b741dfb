"""The HTTP service: the Starlette app and its lifespan, the REST endpoints (ingest, directory,
exports, reports), the GraphQL-over-HTTP view and its WebSocket transport, the GraphiQL and
usage pages, and the HTTP middleware (body limit, security headers, secrets in URLs, 503s).
The GraphQL schema itself is `graph/`; nothing below this package imports it."""
