"""What the limit extensions read from the request: our Context, settings, the rate limiter.

`create_app` keeps the settings and the process's rate limiter on `app.state`. A schema run
without our Context (a bare `schema.execute` in a script) gets the default limits and no
rate limiting.
"""

from __future__ import annotations

from strawberry.types import ExecutionContext

from graph.context import Context
from graph.limits import QueryLimits
from graph.rate_limiter import RateLimiter
from settings import Settings

_DEFAULT_SETTINGS = Settings()


def aize_context(execution_context: ExecutionContext) -> Context | None:
    """The request's Context, or None outside an HTTP request."""
    context = execution_context.context
    return context if isinstance(context, Context) else None


def settings_of(execution_context: ExecutionContext) -> Settings:
    """The app's settings (the defaults outside an HTTP request)."""
    context = aize_context(execution_context)
    settings = getattr(context.request.app.state, "settings", None) if context else None
    return settings if isinstance(settings, Settings) else _DEFAULT_SETTINGS


def query_limits(execution_context: ExecutionContext) -> QueryLimits:
    return QueryLimits.from_settings(settings_of(execution_context))


def rate_limiter_of(execution_context: ExecutionContext) -> RateLimiter | None:
    """The process's rate limiter, or None when the app has none."""
    context = aize_context(execution_context)
    limiter = getattr(context.request.app.state, "rate_limiter", None) if context else None
    return limiter if isinstance(limiter, RateLimiter) else None
