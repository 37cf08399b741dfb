"""The examples of README.md and docs/readme/*.md, as the docs test runs them.

A fenced block is an example when it is ```graphql, or a ```bash/```sh block that calls
`curl` or carries a marker. An HTML comment on the line right before the fence changes how it runs:

- `<!-- example: not run (why) -->`: a fragment, an error example, a step for a later
  version — checked by no one here, so say why.
- `<!-- example: as member -->` (or `as admin`, `as ingest`): the token it runs with;
  the default is the demo's Owner (`$AIZE_TOKEN`, with every scope).
- `<!-- example: walk-through -->`: a step of docs/readme/gateway.md, which starts from an
  empty database rather than the demo; tests/test_gateway_page.py runs those, in order.

A ```json block right after an example is what it answers (`shown`).

A `Variables: `{...}`` line after a GraphQL block gives its variables. Shell examples run in
bash with `$AIZE_TOKEN`, `$AIZE_INGEST_TOKEN` and `$AIZE_DIRECTORY_TOKEN` set (what
`serve --demo` prints); `curl` is a function that records its arguments (and standard input
for `@-`), and the test replays each call against the app.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs" / "readme").glob("*.md"))]
ROLES = ("owner", "admin", "member", "ingest")

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_MARKER = re.compile(r"<!-- example: (.*?) -->\s*$")
_VARIABLES = re.compile(r"\A\s*Variables: `(\{.*?\})`")
_SHOWN = re.compile(r"\A\s*```json\n(.*?)^```", re.S | re.M)


@dataclass(frozen=True, slots=True)
class Example:
    """One fenced block of a doc that the docs test runs (or is told not to)."""

    doc: str
    line: int
    language: str
    text: str
    role: str
    not_run: str | None
    variables: dict[str, Any]
    walk_through: bool = False
    shown: str | None = None

    @property
    def name(self) -> str:
        return f"{self.doc}:{self.line}"


def examples(path: Path) -> list[Example]:
    """The GraphQL blocks and curl-calling shell blocks of one doc, in order."""
    text = path.read_text()
    found = []
    for fence in _FENCE.finditer(text):
        language, body = fence.group(1), fence.group(2)
        if language not in {"graphql", "bash", "sh"}:
            continue
        before = text[: fence.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = _MARKER.search(before)
        if language != "graphql" and not marker and not re.search(r"^\s*curl ", body, re.M):
            continue
        directive = marker.group(1).strip() if marker else ""
        not_run = None
        if directive.startswith("not run"):
            not_run = directive.removeprefix("not run").strip(" ()")
        walk_through = directive.startswith("walk-through")
        if walk_through:
            not_run = "a walk-through step: tests/test_gateway_page.py runs it"
        role = directive.removeprefix("as ").strip() if directive.startswith("as ") else "owner"
        if role not in ROLES:
            raise ValueError(f"{path.name}: unknown example marker {directive!r}")
        variables = _VARIABLES.match(text[fence.end() :])
        shown = _SHOWN.match(text[fence.end() :])
        found.append(
            Example(
                doc=str(path.relative_to(ROOT)),
                line=text.count("\n", 0, fence.start()) + 1,
                language=language,
                text=body,
                role=role,
                not_run=not_run,
                variables=json.loads(variables.group(1)) if variables else {},
                walk_through=walk_through,
                shown=shown.group(1) if shown else None,
            )
        )
    return found


ALL_EXAMPLES = [example for path in DOC_FILES for example in examples(path)]


@dataclass(frozen=True, slots=True)
class CurlCall:
    """One `curl` a shell example made: what to send, where."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None


_SHIM = r"""
__aize_calls=0
curl() {
  __aize_calls=$((__aize_calls + 1))
  printf '%s\0' "$@" > "$AIZE_CURL_LOG/$__aize_calls.args"
  case " $* " in *" @- "*) cat > "$AIZE_CURL_LOG/$__aize_calls.stdin" ;; esac
}
"""


def run_shell(script: str, workdir: Path, env: dict[str, str]) -> list[CurlCall]:
    """Run a shell example with `curl` recording its calls; the calls, in order."""
    log = workdir / "curl-calls"
    log.mkdir()
    completed = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + _SHIM + script],
        cwd=workdir,
        env={**env, "AIZE_CURL_LOG": str(log)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    if completed.returncode != 0:
        raise AssertionError(f"the example failed in bash: {completed.stderr}")
    calls = []
    for n in range(1, len(list(log.glob("*.args"))) + 1):
        args = (log / f"{n}.args").read_bytes().decode().split("\0")[:-1]
        stdin = log / f"{n}.stdin"
        calls.append(_curl_call(args, stdin.read_bytes() if stdin.exists() else None, workdir))
    return calls


def _curl_call(args: list[str], stdin: bytes | None, workdir: Path) -> CurlCall:
    headers: dict[str, str] = {}
    body: bytes | None = None
    method: str | None = None
    url: str | None = None
    values = iter(args)
    for arg in values:
        if arg in {"-H", "--header"}:
            name, _, value = next(values).partition(":")
            headers[name.strip()] = value.strip()
        elif arg in {"-d", "--data", "--data-binary", "--data-raw"}:
            data = next(values)
            if arg != "--data-raw" and data == "@-":
                body = stdin
            elif arg != "--data-raw" and data.startswith("@"):
                body = (workdir / data[1:]).read_bytes()
            else:
                body = data.encode()
        elif arg in {"-X", "--request"}:
            method = next(values)
        elif arg in {"-o", "--output"}:
            next(values)
        elif arg.startswith("http://"):
            url = arg
        elif not re.fullmatch(r"-[sSfL]+|--silent|--show-error|--fail", arg):
            raise AssertionError(f"the docs test does not know the curl option {arg!r}")
    match = re.fullmatch(r"http://(?:127\.0\.0\.1|localhost):8000(/.*)", url or "")
    if match is None:
        raise AssertionError(f"curl calls {url!r}, not the service at port 8000")
    return CurlCall(method or ("POST" if body is not None else "GET"), match[1], headers, body)
