"""A key's allowed models as stored: trimmed, de-duplicated aliases, or a BadInputError."""

from __future__ import annotations

from resolvers.errors import BadInputError

__all__ = ["MAX_ALLOWED_MODELS", "clean_model_aliases"]

MAX_ALLOWED_MODELS = 200
_MODEL_NAME_LENGTH = 100


def clean_model_aliases(models: list[str], argument: str = "models") -> list[str]:
    """The aliases trimmed and de-duplicated in order; BadInputError naming `argument` (and
    the position) for more than MAX_ALLOWED_MODELS, an empty or an over-long alias."""
    if len(models) > MAX_ALLOWED_MODELS:
        raise BadInputError(f"{argument}: at most {MAX_ALLOWED_MODELS} models")
    cleaned: list[str] = []
    for position, raw in enumerate(models):
        name = raw.strip()
        if not name or len(name) > _MODEL_NAME_LENGTH:
            raise BadInputError(
                f"{argument}[{position}]: a model alias of 1 to {_MODEL_NAME_LENGTH} characters"
            )
        if name not in cleaned:
            cleaned.append(name)
    return cleaned
