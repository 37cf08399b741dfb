"""The import graph has layers: every import goes down (or stays in its package), none goes up
to `graph/` (the GraphQL schema) or `web/` (the HTTP service), and nothing imports in a circle.

Imports are read with `ast` from every module of the service's packages: module-level ones,
imports inside functions (the usual way to hide a cycle) and `if TYPE_CHECKING:` ones alike
for the layers; only the last are left out of the cycle check between modules, since they
never run. The layers are listed below, bottom first; packages in one layer may import each
other, but not in a circle.
"""

from __future__ import annotations

import ast
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Migrations are snapshots the migrator runs (excluded from ruff and mypy too).
NOT_CHECKED = ("models/migrations/",)

# Bottom first. A module may import its own package and any package of its layer or below.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("configuration", ("settings",)),
    # Prometheus metrics, JSON logs, tracing set-up: used by the database layer itself.
    ("instrumentation", ("observability",)),
    # ORM models, the database and its dialects, global ids, timestamps.
    ("storage", ("models",)),
    ("prices", ("pricing",)),
    ("identity", ("auth", "coordination", "live")),
    ("audit trail", ("audit",)),
    # Reads: tenant scope, usage, logs.
    ("read side", ("resolvers",)),
    ("alerts", ("alerts",)),
    ("spend control", ("spend",)),
    ("ingest", ("ingestion",)),
    # The writes behind mutations and the CLI: they lock the organization, apply spend
    # control, raise alerts.
    ("administration", ("admin",)),
    ("jobs", ("directory", "maintenance", "exports", "reports")),
    ("GraphQL schema", ("graph",)),
    ("HTTP service", ("web",)),
    ("command line", ("cli",)),
)

# Modules that import each other on purpose, with the reason.
ALLOWED_MODULE_CYCLES: Mapping[frozenset[str], str] = {
    # GraphQL types that name each other (a key's pending limit request, a request's key):
    # the schema's graph is cyclic; one side imports the other where it resolves.
    frozenset({"graph.types.api_key", "graph.types.limit_request"}): "types naming each other",
}


@dataclass(frozen=True, slots=True)
class Import:
    importer: str
    imported: str
    path: str
    line: int
    # False for `if TYPE_CHECKING:` imports (they never run).
    runs: bool

    def where(self) -> str:
        return f"{self.path}:{self.line} imports {self.imported}"


NodeOf = Callable[[str], str]


def _same(module: str) -> str:
    return module


def package_of(module: str) -> str:
    return module.split(".")[0]


def service_packages(root: Path = ROOT) -> list[str]:
    """The service's top-level packages: those mypy checks (pyproject.toml)."""
    with (root / "pyproject.toml").open("rb") as file:
        packages: list[str] = tomllib.load(file)["tool"]["mypy"]["packages"]
    return packages


def service_modules(root: Path = ROOT, packages: Iterable[str] | None = None) -> dict[str, Path]:
    """Every module of the service's packages, by dotted name."""
    modules: dict[str, Path] = {}
    for package in sorted(service_packages(root) if packages is None else packages):
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root)
            if relative.as_posix().startswith(NOT_CHECKED):
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: Mapping[str, Path]) -> str | None:
    """The service module `name` is (or is in): `graph.relay.MAX_NODE_IDS` -> `graph.relay`."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports_of(tree: ast.AST, module: str, is_package: bool) -> Iterable[tuple[str, int, bool]]:
    """(dotted name, line, runs) for every import in `tree`, at any depth."""
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            type_only.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    for node in ast.walk(tree):
        runs = id(node) not in type_only
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, runs
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno, runs


def service_imports(root: Path = ROOT, packages: Iterable[str] | None = None) -> list[Import]:
    """Every import of one service module by another (not of itself)."""
    modules = service_modules(root, packages)
    found: list[Import] = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for name, line, runs in _imports_of(tree, module, is_package):
            imported = _resolve(name, modules)
            if imported is not None and imported != module:
                relative = str(path.relative_to(root))
                found.append(Import(module, imported, relative, line, runs))
    return found


def layer_index() -> dict[str, int]:
    return {package: i for i, (_, packages) in enumerate(LAYERS) for package in packages}


def upward_imports(imports: Iterable[Import]) -> list[Import]:
    """Imports from a package to one in a higher layer."""
    rank = layer_index()
    return [
        found
        for found in imports
        if rank[package_of(found.importer)] < rank[package_of(found.imported)]
    ]


def cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    nodes = sorted(set(edges) | {t for targets in edges.values() for t in targets})
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(edges.get(target, ())))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def _describe_cycle(component: list[str], imports: Iterable[Import], node: NodeOf) -> str:
    """The cycle's members and, for each arrow between two of them, its first import."""
    members = set(component)
    arrows: dict[tuple[str, str], Import] = {}
    for found in sorted(imports, key=lambda i: (i.path, i.line)):
        arrow = (node(found.importer), node(found.imported))
        if arrow[0] in members and arrow[1] in members and arrow[0] != arrow[1]:
            arrows.setdefault(arrow, found)
    lines = [f"    {a} -> {b}: {found.where()}" for (a, b), found in sorted(arrows.items())]
    return "  " + " <-> ".join(component) + "\n" + "\n".join(lines)


# ---------------------------------------------------------------------------------------


def test_every_package_of_the_service_has_a_layer() -> None:
    packages = set(service_packages())
    placed = set(layer_index())
    assert packages - placed == set(), (
        "A package without a layer: add it to LAYERS in tests/test_layers.py"
    )
    assert placed - packages == set(), "LAYERS names a package mypy does not check"


def test_no_import_goes_up_a_layer() -> None:
    rank = layer_index()
    names = {i: name for i, (name, _) in enumerate(LAYERS)}
    unexpected = [
        f"  {found.where()}: {importer}/ ({names[rank[importer]]}) may not import"
        f" {imported}/ ({names[rank[imported]]}, a higher layer)"
        for found in upward_imports(service_imports())
        for importer, imported in [(package_of(found.importer), package_of(found.imported))]
    ]
    assert unexpected == [], "Imports going up a layer:\n" + "\n".join(sorted(unexpected))


def test_nothing_below_imports_the_schema_or_the_http_service() -> None:
    rank = layer_index()
    offending = sorted(
        found.where()
        for found in service_imports()
        if package_of(found.imported) in {"graph", "web"}
        and rank[package_of(found.importer)] < rank[package_of(found.imported)]
    )
    assert offending == [], "Imports of graph/ or web/ from below:\n" + "\n".join(offending)


def test_no_import_cycle_between_packages() -> None:
    imports = service_imports()
    edges: dict[str, set[str]] = defaultdict(set)
    for found in imports:
        if package_of(found.importer) != package_of(found.imported):
            edges[package_of(found.importer)].add(package_of(found.imported))
    found = [_describe_cycle(c, imports, package_of) for c in cycles(edges)]
    assert found == [], "Packages importing each other:\n" + "\n".join(found)


def test_no_import_cycle_between_modules() -> None:
    imports = [found for found in service_imports() if found.runs]
    edges: dict[str, set[str]] = defaultdict(set)
    for found in imports:
        edges[found.importer].add(found.imported)
    found = [
        _describe_cycle(component, imports, _same)
        for component in cycles(edges)
        if frozenset(component) not in ALLOWED_MODULE_CYCLES
    ]
    assert found == [], "Modules importing each other (at any depth):\n" + "\n".join(found)


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    # What the layers forbid, seen: exports/ importing graph.relay, even inside a function.
    for package in ("exports", "graph"):
        (tmp_path / package).mkdir()
    (tmp_path / "graph" / "relay.py").write_text("MAX_NODE_IDS = 100\n")
    (tmp_path / "exports" / "usage.py").write_text(
        "def ids() -> None:\n    from graph.relay import MAX_NODE_IDS\n"
    )
    imports = service_imports(tmp_path, ["exports", "graph"])
    assert [found.where() for found in upward_imports(imports)] == [
        "exports/usage.py:2 imports graph.relay"
    ]


def test_the_check_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
