"""Count the SQL statements a block of code sends, with their bound values (Tortoise logs
each one at DEBUG)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class QueryLog:
    statements: list[str] = field(default_factory=list)
    # (statement, bound values) where the client logged them apart (logger.debug(fmt, q, v)).
    executed: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


class _Collector(logging.Handler):
    def __init__(self, log: QueryLog) -> None:
        super().__init__(level=logging.DEBUG)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        # Tortoise logs connection lifecycle too; keep only statements.
        head = message.lstrip().split(None, 1)[0].upper() if message.strip() else ""
        if head in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "COPY"}:
            self.log.statements.append(message)
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and isinstance(args[0], str):
            query, values = args
            head = query.lstrip().split(None, 1)[0].upper() if query.strip() else ""
            if head in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}:
                self.log.executed.append((query, tuple(values or ())))


@contextmanager
def count_queries() -> Iterator[QueryLog]:
    """Collect every SQL statement sent inside the block."""
    log = QueryLog()
    logger = logging.getLogger("tortoise.db_client")
    handler = _Collector(log)
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield log
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
