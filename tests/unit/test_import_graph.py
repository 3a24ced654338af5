"""The import graph of ``services/`` and ``contracts/``: no cycles, and the layers hold.

Built with :mod:`ast` from the source (nothing is imported): every ``import`` and
``from … import`` statement counts, at module level, inside a function, and under
``if TYPE_CHECKING:`` too. A type-checking import never runs, so it cannot fail at import
time, but it is a dependency all the same: two modules that need each other's types are one
design knot, and the cycle check says so.

``from package import name`` is an edge to ``package.name`` when that is a module, else to
``package``. Relative imports are resolved against the importing module's package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("services", "contracts")

KNOWN_CYCLE_EDGES: set[tuple[str, str]] = set()
"""Edges left out of the cycle check, each one still present (a stale entry fails)."""

KNOWN_LAYER_BREACHES: set[tuple[str, str]] = set()
"""(importer, imported) pairs allowed to break a layer rule for now (same rule as above)."""

FRAMEWORKS = ("fastapi", "starlette", "faststream", "aiokafka", "redis")
"""What a domain module may not import: I/O and delivery frameworks."""


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def imports_of(name: str, path: Path, known: set[str]) -> Iterator[Import]:
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, alias.name, node.lineno)
            continue
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base_parts = package.split(".")
            base_parts = base_parts[: len(base_parts) - node.level + 1]
            base = ".".join(base_parts + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            yield Import(name, candidate if candidate in known else base, node.lineno)


def all_imports() -> list[Import]:
    modules = source_modules()
    known = set(modules)
    return [found for name, path in modules.items() for found in imports_of(name, path, known)]


def internal_graph(imports: list[Import]) -> dict[str, set[str]]:
    modules = set(source_modules())
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for found in imports:
        if found.imported not in modules:
            continue
        if (found.importer, found.imported) in KNOWN_CYCLE_EDGES:
            continue
        if found.importer != found.imported:
            graph[found.importer].add(found.imported)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively (no recursion limit); components of 2 or more."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
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
                continue
            if child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def a_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One concrete cycle through the component's first module (breadth-first)."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & members):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    raise AssertionError(f"no cycle found in {component}")


def segments(module: str) -> list[str]:
    return module.split(".")


def layer_breaches(imports: list[Import]) -> list[str]:
    breaches = []
    for found in imports:
        if (found.importer, found.imported) in KNOWN_LAYER_BREACHES:
            continue
        importer, imported = segments(found.importer), segments(found.imported)
        where = f"{found.importer}:{found.line} imports {found.imported}"
        if "domain" in importer:
            if {"application", "adapters", "entrypoints"} & set(imported) and (
                imported[0] in PACKAGES
            ):
                breaches.append(f"{where} (the domain depends on no outer layer)")
            if imported[0] in FRAMEWORKS:
                breaches.append(f"{where} (the domain does no I/O)")
        if (
            "application" in importer
            and imported[0] in PACKAGES
            and {"adapters", "entrypoints"} & set(imported)
        ):
            breaches.append(f"{where} (the application layer depends on no adapter)")
        if "adapters" in importer and imported[-1] == "bootstrap":
            breaches.append(f"{where} (bootstrap wires adapters, never the reverse)")
    return breaches


def test_there_is_no_import_cycle() -> None:
    graph = internal_graph(all_imports())
    cycles = [" → ".join(a_cycle(graph, c)) for c in strongly_connected(graph)]
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_layers_hold() -> None:
    breaches = layer_breaches(all_imports())
    assert not breaches, "layer rules broken:\n" + "\n".join(breaches)


def test_every_known_exception_is_still_needed() -> None:
    present = {(i.importer, i.imported) for i in all_imports()}
    stale = (KNOWN_CYCLE_EDGES | KNOWN_LAYER_BREACHES) - present
    assert not stale, f"remove these from the known exceptions, they are gone: {stale}"


def test_the_checks_see_what_they_look_for(tmp_path: Path) -> None:
    """The walker finds function-level, relative and type-checking imports; the cycle
    search names a cycle; a domain importing a framework is reported."""
    module = tmp_path / "services" / "s" / "domain" / "rules.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import fastapi\n"
        "def f():\n    from . import other\n    from ..application import tickets\n"
    )
    known = {"services.s.domain.other"}
    found = list(imports_of("services.s.domain.rules", module, known))
    assert [i.imported for i in found] == [
        "typing",
        "fastapi",
        "services.s.domain.other",
        "services.s.application",
    ]
    assert layer_breaches(found) == [
        "services.s.domain.rules:3 imports fastapi (the domain does no I/O)",
        "services.s.domain.rules:6 imports services.s.application "
        "(the domain depends on no outer layer)",
    ]
    graph = {"x": {"y"}, "y": {"z"}, "z": {"x"}, "w": {"x"}}
    assert strongly_connected(graph) == [["x", "y", "z"]]
    assert a_cycle(graph, ["x", "y", "z"]) == ["x", "y", "z", "x"]
