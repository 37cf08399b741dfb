"""The HTML a browser gets at GET /graphql: GraphiQL from local files, or the console.

strawberry's own page (`GraphQL.graphql_ide_html`) loads React and GraphiQL from a CDN and
never leaves "Loading..." behind a firewall. This page loads the same pinned files from this
service (`/graphiql/...`, fetched by `aize-analytics fetch-graphiql`); when they are not
installed, a small built-in console (plain HTML and one inline script) sends the queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from web.graphiql.assets import ASSETS, assets_dir, assets_present

# Where the app mounts the asset files.
ASSETS_PATH = "/graphiql"
_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class IdePage:
    """The page's HTML, and the asset folder to mount (None: the console, nothing to mount)."""

    html: str
    assets: Path | None


def ide_page(directory: Path | None = None) -> IdePage:
    """GraphiQL when every asset is in `directory` (default `assets_dir()`), else the console."""
    directory = assets_dir() if directory is None else directory
    if not assets_present(directory):
        return IdePage((_HERE / "console.html").read_text(encoding="utf-8"), None)
    by_name = {asset.name: asset.integrity for asset in ASSETS}
    html = (_HERE / "graphiql.html").read_text(encoding="utf-8")
    for placeholder, value in {
        "{assets}": ASSETS_PATH,
        "{css_integrity}": by_name["graphiql.min.css"],
        "{react_integrity}": by_name["react.production.min.js"],
        "{react_dom_integrity}": by_name["react-dom.production.min.js"],
        "{graphiql_integrity}": by_name["graphiql.min.js"],
    }.items():
        html = html.replace(placeholder, value)
    return IdePage(html, directory)
