"""`aize-analytics fetch-graphiql`: take GraphiQL's files from the npm registry."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from web.graphiql.assets import (
    ASSETS,
    ASSETS_DIR_VARIABLE,
    FetchError,
    assets_dir,
    assets_present,
    fetch_assets,
)


class GraphiqlFetchError(Exception):
    """The files could not be fetched; the message says why."""


def add_graphiql_parser(sub: Any) -> None:
    fetch = sub.add_parser(
        "fetch-graphiql",
        help="fetch GraphiQL's pinned files from the npm registry (needs npm) for /graphql",
    )
    fetch.add_argument(
        "--dir",
        type=Path,
        help=f"where to put them (default: {ASSETS_DIR_VARIABLE} or web/graphiql/static)",
    )


def fetch_graphiql_command(args: argparse.Namespace) -> str:
    """Fetch the files unless they are already there with their pinned hashes."""
    directory: Path = args.dir or assets_dir()
    if assets_present(directory):
        return f"GraphiQL files already in {directory}"
    try:
        written = fetch_assets(directory)
    except FetchError as exc:
        raise GraphiqlFetchError(str(exc)) from None
    names = ", ".join(path.name for path in written)
    return f"GraphiQL files ({len(ASSETS)}) in {directory}: {names}"
