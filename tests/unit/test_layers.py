"""The layer contract of prefork_modpy, read from the source (every import counts: module
level, inside functions and under TYPE_CHECKING).

Layers import only downward: config <- runtime <- httpd <- modpy <- server <- cli, and
`mod_python/` (what handlers import) only from prefork_modpy's runtime and below. No module
may be part of an import cycle."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("prefork_modpy", "mod_python")
# The rank of each layer; a module may import modules of its own rank or lower.
LAYERS = {"config": 1, "runtime": 2, "httpd": 3, "modpy": 4, "server": 5, "cli": 6,
          "__main__": 6}
# What every layer may use: the package root (the version) and the Rust extension.
SHARED = {"prefork_modpy", "prefork_modpy._core"}
MOD_PYTHON_MAY_USE = LAYERS["runtime"]


def module_files() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported_names(module: str, path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in the file, relative ones made absolute."""
    names = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names.append((node.lineno, base))
            names.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
    return names


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported module of ours: first line}."""
    modules = module_files()
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        edges = graph.setdefault(module, {})
        for line, name in imported_names(module, path):
            while name and name not in modules and name not in SHARED:
                name = name.rpartition(".")[0]
            if name and name != module and name.split(".")[0] in PACKAGES:
                edges.setdefault(name, line)
    return graph


def rank(module: str) -> Optional[int]:
    parts = module.split(".")
    if parts[0] != "prefork_modpy" or len(parts) < 2:
        return None
    return LAYERS.get(parts[1])


def upward_imports(graph: dict[str, dict[str, int]]) -> list[str]:
    problems = []
    for module, edges in graph.items():
        for target, line in edges.items():
            if target in SHARED:
                continue
            here, there = rank(module), rank(target)
            if module.startswith("mod_python"):
                if target.startswith("prefork_modpy") and (there or 99) > MOD_PYTHON_MAY_USE:
                    problems.append(f"{module}:{line} imports {target} (mod_python may use "
                                    "prefork_modpy.runtime and below only)")
            elif there is not None and (here is None or there > here):
                problems.append(f"{module}:{line} imports {target}, a higher layer")
    return problems


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected sets of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            members = []
            while True:
                member = stack.pop()
                members.append(member)
                if member == node:
                    break
            if len(members) > 1:
                found.append(sorted(members))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_layers_import_only_downward():
    assert upward_imports(import_graph()) == []


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_contract_sees_every_kind_of_import(tmp_path):
    """The reader itself: function-local and TYPE_CHECKING imports are edges too."""
    source = tmp_path / "probe.py"
    source.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                      "    from ..modpy.request import Request\n"
                      "def f():\n    from ..server import worker\n")
    names = [name for _, name in imported_names("prefork_modpy.runtime.probe", source)]
    assert "prefork_modpy.modpy.request" in names and "prefork_modpy.server" in names
    graph = {"prefork_modpy.runtime.probe": {"prefork_modpy.modpy.request": 3},
             "prefork_modpy.modpy.request": {"prefork_modpy.runtime.probe": 1}}
    assert upward_imports(graph) == ["prefork_modpy.runtime.probe:3 imports "
                                     "prefork_modpy.modpy.request, a higher layer"]
    assert cycles(graph) == [["prefork_modpy.modpy.request", "prefork_modpy.runtime.probe"]]
