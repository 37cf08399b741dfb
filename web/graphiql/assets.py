"""The GraphiQL page's third-party files: which npm packages, which files, their hashes.

They are never committed: `aize-analytics fetch-graphiql` takes them from the npm registry
(`npm pack`, the registry's ordinary client, which checks each tarball's sha512), checks
each file against the SHA-384 pinned here (the same Subresource Integrity values the page
sends to the browser) and writes them into `assets_dir()` (git-ignored). Without them the
service serves the built-in console (web/graphiql/page.py).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# AIZE_GRAPHIQL_DIR overrides where the files live (e.g. a read-only image layer).
ASSETS_DIR_VARIABLE = "AIZE_GRAPHIQL_DIR"
_DEFAULT_DIR = Path(__file__).resolve().parent / "static"
# One `npm pack` of three tarballs (~5 MB) takes a few seconds; a stuck registry must not hang.
NPM_TIMEOUT_SECONDS = 300


@dataclass(frozen=True, slots=True)
class Asset:
    """One file the GraphiQL page loads: `name` as served, taken from `member` of `package`."""

    name: str
    package: str
    member: str
    sha384: str  # base64, as in a Subresource Integrity attribute

    @property
    def integrity(self) -> str:
        return f"sha384-{self.sha384}"


GRAPHIQL_VERSION = "3.8.3"
REACT_VERSION = "18.2.0"
ASSETS: tuple[Asset, ...] = (
    Asset(
        "react.production.min.js",
        f"react@{REACT_VERSION}",
        "package/umd/react.production.min.js",
        "tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    ),
    Asset(
        "react-dom.production.min.js",
        f"react-dom@{REACT_VERSION}",
        "package/umd/react-dom.production.min.js",
        "bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    ),
    Asset(
        "graphiql.min.js",
        f"graphiql@{GRAPHIQL_VERSION}",
        "package/graphiql.min.js",
        "HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    ),
    Asset(
        "graphiql.min.css",
        f"graphiql@{GRAPHIQL_VERSION}",
        "package/graphiql.min.css",
        "Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    ),
)


class FetchError(RuntimeError):
    """The assets could not be fetched or did not match their pinned hashes."""


def assets_dir() -> Path:
    """Where the fetched files are (AIZE_GRAPHIQL_DIR, else web/graphiql/static)."""
    configured = os.environ.get(ASSETS_DIR_VARIABLE, "").strip()
    return Path(configured) if configured else _DEFAULT_DIR


def sha384_of(data: bytes) -> str:
    return base64.b64encode(hashlib.sha384(data).digest()).decode()


def assets_present(directory: Path) -> bool:
    """Whether every asset is in `directory` with its pinned hash (checked at start-up)."""
    stamps = []
    for asset in ASSETS:
        try:
            stat = (directory / asset.name).stat()
        except OSError:
            return False
        stamps.append((asset.name, stat.st_mtime_ns, stat.st_size))
    return _hashes_match(directory.resolve(), tuple(stamps))


@cache
def _hashes_match(directory: Path, stamps: tuple[tuple[str, int, int], ...]) -> bool:
    """Hashing ~4 MB takes ~10 ms: done once per directory and set of file versions."""
    return all(sha384_of((directory / asset.name).read_bytes()) == asset.sha384 for asset in ASSETS)


def fetch_assets(directory: Path, npm: str = "npm") -> list[Path]:
    """Fetch the pinned packages with `npm pack`, check and write the files; returns them."""
    if shutil.which(npm) is None:
        raise FetchError(f"{npm!r} is not installed: it fetches GraphiQL from the npm registry")
    packages = sorted({asset.package for asset in ASSETS})
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="aize-graphiql-") as scratch:
        command = [npm, "pack", *packages, "--pack-destination", scratch, "--silent"]
        try:
            subprocess.run(
                command, check=True, capture_output=True, timeout=NPM_TIMEOUT_SECONDS, cwd=scratch
            )
        except subprocess.CalledProcessError as exc:
            raise FetchError(f"npm pack failed: {exc.stderr.decode(errors='replace')}") from None
        except subprocess.TimeoutExpired:
            raise FetchError(f"npm pack took over {NPM_TIMEOUT_SECONDS} s") from None
        for asset in ASSETS:
            data = _member(Path(scratch) / _tarball_name(asset.package), asset.member)
            if sha384_of(data) != asset.sha384:
                raise FetchError(f"{asset.package} {asset.member} does not match its pinned hash")
            target = directory / asset.name
            target.write_bytes(data)
            written.append(target)
    return written


def _tarball_name(package: str) -> str:
    """`npm pack`'s file name for a spec such as `react-dom@18.2.0` (no scoped packages here)."""
    name, version = package.rsplit("@", 1)
    return f"{name}-{version}.tgz"


def _member(tarball: Path, member: str) -> bytes:
    with tarfile.open(tarball, "r:gz") as archive:
        extracted = archive.extractfile(member)
        if extracted is None:
            raise FetchError(f"{tarball.name} has no file {member}")
        return extracted.read()
