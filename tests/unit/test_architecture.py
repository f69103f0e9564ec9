"""
The shape of the house: every import inside ``meta_strategy`` (imports inside functions
included) points down the layers of the package, no module imports itself back through others
(no import circle), no module is over 500 lines and no function over 80 (declarative tables
aside). Parsed from the source, nothing imported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest


REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "meta_strategy"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("paths", "config_keys"),
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
DECLARATIVE_FUNCTIONS: frozenset[tuple[str, str]] = frozenset()
"""(module, function) of argparse tables or schemas allowed past the function limit (none now:
the parser is split by command group)."""


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


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """:return: the module a ``from ... import`` names, relative imports resolved"""
    if node.level == 0:
        return node.module or ""
    package = importer.split(".")
    if not is_package:
        package = package[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, *([node.module] if node.module else [])])


def imports_of(tree: ast.Module, name: str, is_package: bool, modules: Iterable[str]) -> set[str]:
    """
    The package modules a module imports, anywhere in it (functions included). ``from a.b import
    c`` imports ``a.b.c`` when that is a module, else ``a.b``; importing a module also runs its
    packages' ``__init__``.

    :param tree: the module's syntax tree
    :param name: the module's name
    :param is_package: the module is a package's ``__init__``
    :param modules: every module of the package
    :return: the imported module names
    """
    modules = set(modules)
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, name, is_package)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.append(sub if sub in modules else base)
        for target in targets:
            if target.split(".")[0] != "meta_strategy":
                continue
            found.update(m for m in (target, *_ancestors(target)) if m in modules)
    found.discard(name)
    return found


# Parsed once, when the tests are collected: CPython 3.11's ``ast`` keeps its recursion counter
# per interpreter, so parsing while another test's thread builds syntax trees can fail with
# "AST constructor recursion depth mismatch".
SOURCES = {name: path.read_text() for name, path in package_modules().items()}
TREES = {name: ast.parse(source) for name, source in SOURCES.items()}


def import_graph() -> dict[str, set[str]]:
    """:return: module -> the package modules it imports"""
    paths = package_modules()
    return {
        name: imports_of(tree, name, paths[name].name == "__init__.py", TREES)
        for name, tree in TREES.items()
    }


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


_EXAMPLES = {
    "function level": ast.parse("def f():\n    from meta_strategy.data import files\n"),
    "relative": ast.parse("from ..data import files\nfrom . import engine\n"),
}


def test_function_level_and_relative_imports_are_seen() -> None:
    modules = {"meta_strategy.data", "meta_strategy.data.files", "meta_strategy.signals.engine"}
    name = "meta_strategy.signals.m"
    found = imports_of(_EXAMPLES["function level"], name, False, modules)
    assert found == {"meta_strategy.data.files", "meta_strategy.data"}
    found = imports_of(_EXAMPLES["relative"], name, False, modules)
    assert found == {
        "meta_strategy.data.files",
        "meta_strategy.data",
        "meta_strategy.signals.engine",
    }


@pytest.mark.parametrize("name", sorted(TREES))
def test_module_and_function_sizes(name: str) -> None:
    path = package_modules()[name]
    assert len(SOURCES[name].splitlines()) <= MAX_MODULE_LINES, f"{path} is over {MAX_MODULE_LINES}"
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(TREES[name])
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
        and (name, node.name) not in DECLARATIVE_FUNCTIONS
    ]
    assert long == [], f"{path}: functions over {MAX_FUNCTION_LINES} lines: {long}"
