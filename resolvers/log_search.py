"""Search in request logs: a case-insensitive substring of the error message, the model
alias, the provider model or the endpoint.

- PostgreSQL: `ILIKE '%text%'` on one text expression joining the four columns
  (`SEARCH_DOCUMENT`), which a GIN trigram index (`pg_trgm`, migration 0018) answers for
  texts of 3 characters or more.
- SQLite: the FTS5 table `request_log_search` (trigram tokenizer, external content on
  request_log, kept in sync by triggers on insert, delete and update of the four columns:
  every ingest path writes through them), matched as one phrase for texts of 3 characters
  or more; shorter texts are compared with LIKE on the same expression.

Case-insensitive for ASCII on both backends (PostgreSQL folds other letters by its
locale, SQLite's trigram tokenizer by Unicode's simple folding). The text is bounded
(`MAX_SEARCH_BYTES`); a search is priced as a raw scan by the cost model and bounded by
the statement timeout like every read.
"""

from __future__ import annotations

from models.database import Dialect, Params
from resolvers.errors import BadInputError

# UTF-8 bytes a search text may have: longer than any model or endpoint name, and enough
# for the distinctive part of an error message.
MAX_SEARCH_BYTES = 200
# The trigram indexes only help from this many characters on.
TRIGRAM = 3
# The four searched columns as one text (each joined by a unit separator, chr(31), so a
# match never spans two columns unless the text itself holds one). The PostgreSQL index is
# built on exactly this expression; SQLite's short-text fallback uses it too.
SEARCH_DOCUMENT = (
    "(COALESCE(error_message, '') || chr(31) || model || chr(31) || provider_model "
    "|| chr(31) || endpoint)"
)
_SQLITE_DOCUMENT = SEARCH_DOCUMENT.replace("chr(31)", "char(31)")
FTS_TABLE = "request_log_search"


def parse_search(text: str | None, argument: str = "search") -> str | None:
    """The text to search for, or None for no search (null, empty or only spaces);
    BadInputError naming `argument` when it is longer than MAX_SEARCH_BYTES or holds a
    control character."""
    if text is None or not text.strip():
        return None
    size = len(text.encode())
    if size > MAX_SEARCH_BYTES:
        raise BadInputError(f"{argument}: at most {MAX_SEARCH_BYTES} bytes (UTF-8), got {size}")
    if any(ord(character) < 32 for character in text):
        raise BadInputError(f"{argument}: may not contain control characters")
    return text


def search_condition(text: str, params: Params) -> str:
    """SQL condition on request_log: the row's searched columns contain `text`."""
    if params.dialect is Dialect.SQLITE and len(text) >= TRIGRAM:
        phrase = '"' + text.replace('"', '""') + '"'
        return f"id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH {params.add(phrase)})"
    pattern = "%" + _escape_like(text) + "%"
    if params.dialect is Dialect.SQLITE:
        return f"{_SQLITE_DOCUMENT} LIKE {params.add(pattern)} ESCAPE '\\'"
    return f"{SEARCH_DOCUMENT} ILIKE {params.add(pattern)}"


def _escape_like(text: str) -> str:
    """`text` with LIKE's wildcards and the escape character (backslash) taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
