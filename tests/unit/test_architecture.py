"""
The shape of the house: every import inside ``meta_strategy`` (imports inside functions
included) points down the layers of the package, no module imports itself back through others
(no import circle), no module is over 500 lines and no function over 80 (declarative tables
aside). Parsed from the source, nothing imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest


REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "meta_strategy"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("paths",),
    ("freqtrade_bridge",),
    ("data",),
    ("signals",),
    ("rl", "models", "trading"),
    ("research", "ops"),
    ("cli",),
)
"""Lowest first: a package may import from its own layer's packages as :data:`SIDEWAYS` allows
and from every layer below it, never from a layer above."""
SIDEWAYS = {("models", "rl"), ("trading", "models"), ("trading", "rl")}
"""Imports allowed inside one layer: (importer, imported). Together they form no circle."""
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
DECLARATIVE_FUNCTIONS = {("meta_strategy.cli.research", "_add_report_parser")}
"""Functions that are argparse tables or schemas, allowed past the function limit."""


def module_name(path: Path) -> str:
    """:return: the dotted module name of a file of the package"""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def package_modules() -> dict[str, Path]:
    """:return: every module of the package by name"""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def imports_of(path: Path, modules: dict[str, Path], name: str | None = None) -> set[str]:
    """
    The package modules a module imports, anywhere in it (functions included). ``from a.b import
    c`` imports ``a.b.c`` when that is a module, else ``a.b``; importing a module also runs its
    packages' ``__init__``.

    :param path: the module's file
    :param modules: every module of the package
    :param name: the module's name (default: from its path in the package)
    :return: the imported module names
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                targets.append(sub if sub in modules else node.module)
        for target in targets:
            if target.split(".")[0] != "meta_strategy":
                continue
            found.update(m for m in (target, *_ancestors(target)) if m in modules)
    found.discard(name or module_name(path))
    return found


def import_graph() -> dict[str, set[str]]:
    """:return: module -> the package modules it imports"""
    modules = package_modules()
    return {name: imports_of(path, modules) for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """:return: the strongly connected components of more than one module (Tarjan)"""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _layer(package: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if package in layer)


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """:return: ``importer -> imported`` for every import that points up or sideways unasked"""
    bad = []
    for module, imported in sorted(graph.items()):
        source = _package_of(module)
        if not source:  # meta_strategy/__init__.py
            continue
        for target in sorted(imported):
            dest = _package_of(target)
            if not dest or dest == source:
                continue
            if _layer(dest) > _layer(source) or (
                _layer(dest) == _layer(source) and (source, dest) not in SIDEWAYS
            ):
                bad.append(f"{module} -> {target}")
    return bad


def test_every_package_has_a_layer() -> None:
    packages = {_package_of(m) for m in package_modules()} - {""}
    assert packages == {p for layer in LAYERS for p in layer}


def test_no_import_circle() -> None:
    assert circles(import_graph()) == []


def test_imports_point_down_the_layers() -> None:
    assert layer_violations(import_graph()) == []


def test_sideways_imports_form_no_circle() -> None:
    graph = {a: {b for s, b in SIDEWAYS if s == a} for a, _ in SIDEWAYS}
    assert circles(graph) == []


def test_circle_and_layer_checks_catch_what_they_should() -> None:
    """The checks themselves: a circle through a function-level import, an upward import."""
    graph = {
        "meta_strategy.data.a": {"meta_strategy.data.b"},
        "meta_strategy.data.b": {"meta_strategy.data.a"},
        "meta_strategy.signals.c": {"meta_strategy.cli.main"},
    }
    assert circles(graph) == [["meta_strategy.data.a", "meta_strategy.data.b"]]
    assert layer_violations(graph) == ["meta_strategy.signals.c -> meta_strategy.cli.main"]


def test_function_level_imports_are_seen(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from meta_strategy.data import files\n")
    modules = {"meta_strategy.data.files": Path(), "meta_strategy.data": Path()}
    found = imports_of(module, modules, "meta_strategy.signals.m")
    assert found == {"meta_strategy.data.files", "meta_strategy.data"}


@pytest.mark.parametrize("name", sorted(package_modules()))
def test_module_and_function_sizes(name: str) -> None:
    path = package_modules()[name]
    source = path.read_text()
    assert len(source.splitlines()) <= MAX_MODULE_LINES, f"{path} is over {MAX_MODULE_LINES}"
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
        and (name, node.name) not in DECLARATIVE_FUNCTIONS
    ]
    assert long == [], f"{path}: functions over {MAX_FUNCTION_LINES} lines: {long}"
