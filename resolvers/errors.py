"""Errors the read side raises; graph/ turns them into coded GraphQL errors."""

from __future__ import annotations


class ForbiddenError(Exception):
    """The viewer's role does not allow this; the message says what was refused."""


class NotFoundError(Exception):
    """Missing, or in another organization: both answer exactly the same."""


class BadInputError(Exception):
    """An argument is unusable; the message names the argument and what was wrong."""
