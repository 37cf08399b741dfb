"""GraphiQL's files for the tests that need them: the installed ones, or fetched once.

scripts/test.sh runs `aize-analytics fetch-graphiql` first; a run without it fetches them
here (npm and the npm registry are on every machine of this project), never skips.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from web.graphiql.assets import assets_dir, assets_present, fetch_assets


@cache
def installed_graphiql_assets() -> Path:
    """The folder holding every pinned asset (fetching them into it when they are missing)."""
    directory = assets_dir()
    if not assets_present(directory):
        fetch_assets(directory)
    return directory
