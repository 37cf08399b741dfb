"""Live updates: ingest announces committed changes per organization (PostgreSQL NOTIFY, or
in process on SQLite), and coalescing hubs turn them into at most one computation per
organization, filter and scope per interval, shared by every subscriber of that key."""
