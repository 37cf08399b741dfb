"""GraphQL Code Generator and tsc over the README's operations, with the README's mapping.

The README's `codegen.yml` (the ```yaml block of "Typed clients") runs as printed, with
`strictScalars`, against schema.graphql and the README's ```graphql operations; the npm
packages pinned in tests/codegen/package.json are installed into tests/codegen/node_modules
when the test runs. Then `tsc --strict --noEmit` compiles code that reads the generated
answer types as the README's table says (Decimal and DateTime are strings, BigInt a
number): a scalar typed `unknown` or `any`, or mapped otherwise, fails to compile or fails
the `Exact` checks below.

Needs Node and npm (and the npm registry, the first time). Where they are absent the test is
skipped with the reason, except under CI (CI=true), where it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tests" / "codegen"
WORK = PACKAGE / "work"
README = ROOT / "README.md"

_YAML = re.compile(r"^```yaml\n(.*?)^```", re.S | re.M)
_GRAPHQL = re.compile(r"^```graphql\n(.*?)^```", re.S | re.M)

# Compiles only when the generated types are exactly what the README's table promises.
CHECK_TS = """\
import type { UsagePageQuery, LogsQuery } from "./src/aize.generated";

type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const yes = <T extends true>(): T => true as T;

type Totals = UsagePageQuery["organization"]["usage"]["totals"];
type Node = LogsQuery["organization"]["requestLogs"]["edges"][number]["node"];
// `trend` is null for a Member asking for a split (team-only): NonNullable to reach it.
type Column = NonNullable<UsagePageQuery["organization"]["usage"]["trend"]>["columns"];

export const checks = [
  yes<Exact<Totals["customerCost"], string>>(),          // Decimal
  yes<Exact<Totals["averageCostPerRequest"], string | null>>(),
  yes<Exact<Totals["requests"], number>>(),              // BigInt
  yes<Exact<Totals["totalTokens"], number>>(),
  yes<Exact<Node["timestamp"], string>>(),               // DateTime
  yes<Exact<Node["totalTokens"], number>>(),
  yes<Exact<Column["start"], Array<string>>>(),
];

export function totalCost(data: UsagePageQuery): number {
  // Strings and numbers are usable as such: no casts from unknown.
  const cents: number = Math.round(Number(data.organization.usage.totals.customerCost) * 100);
  const when: Date = new Date(data.organization.usage.trend?.columns.start[0] ?? "");
  return cents + data.organization.usage.totals.requests + when.getTime() * 0;
}
"""


def _tool_or_skip(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        reason = f"{name} is not installed: the codegen check needs Node.js and npm"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + " (never skipped under CI)")
        pytest.skip(reason)
    return path


def _run(command: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, (
        f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return result


def _readme_codegen_config() -> str:
    configs = [block for block in _YAML.findall(README.read_text()) if "strictScalars" in block]
    assert len(configs) == 1, "README.md should hold one codegen.yml (```yaml with strictScalars)"
    return configs[0]


def _readme_operations() -> list[str]:
    operations = [b for b in _GRAPHQL.findall(README.read_text()) if b.lstrip().startswith("query")]
    assert operations, "README.md has no GraphQL operations"
    return operations


def test_codegen_types_the_readmes_operations_and_tsc_compiles_them() -> None:
    npm = _tool_or_skip("npm")
    _tool_or_skip("node")
    # Pinned packages; a no-op when node_modules is already current.
    _run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], PACKAGE, 600)

    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "src" / "operations").mkdir(parents=True)
    shutil.copy(ROOT / "schema.graphql", WORK / "schema.graphql")
    for number, operation in enumerate(_readme_operations()):
        (WORK / "src" / "operations" / f"readme{number}.graphql").write_text(operation)
    (WORK / "codegen.yml").write_text(_readme_codegen_config())
    (WORK / "check.ts").write_text(CHECK_TS)
    bin_dir = PACKAGE / "node_modules" / ".bin"

    _run([str(bin_dir / "graphql-codegen"), "--config", "codegen.yml"], WORK, 300)
    generated = (WORK / "src" / "aize.generated.ts").read_text()
    _run(
        [
            str(bin_dir / "tsc"),
            "--strict",
            "--noEmit",
            "--target",
            "es2022",
            "--module",
            "es2022",
            "--moduleResolution",
            "bundler",
            "check.ts",
        ],
        WORK,
        300,
    )

    # Every custom scalar the operations use is typed: none is left `any` or `unknown`.
    assert not re.search(r": (any|unknown)\b", generated.split("export type", 1)[1])

    # strictScalars: a mapping that forgets BigInt fails codegen instead of typing it `any`.
    forgetful = _readme_codegen_config().replace("        BigInt: number\n", "")
    (WORK / "codegen.yml").write_text(forgetful)
    result = subprocess.run(
        [str(bin_dir / "graphql-codegen"), "--config", "codegen.yml"],
        cwd=WORK,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode != 0
    assert "BigInt" in result.stdout + result.stderr
