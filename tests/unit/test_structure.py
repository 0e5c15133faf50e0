"""The package's shape: no import cycles, no private name crossing a module boundary.

The graph is built from the source with :mod:`ast` (imports under ``if TYPE_CHECKING:`` are
left out: they never run). ruff's import-private-name rule skips imports inside one package,
so the private-name check among scot's own modules is made here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Source folder -> package name (``commands/`` is installed as ``scot_cli.commands``).
PACKAGES = {"scot_cli": "scot_cli", "commands": "scot_cli.commands"}


@dataclass(frozen=True)
class Import:
    """One import statement: the module it names, the names taken, whether at module level."""

    module: str
    names: tuple[str, ...]
    top_level: bool
    line: int


def module_files() -> dict[str, Path]:
    """Every module of the installed package by its dotted name."""
    found = {}
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = [package, *path.relative_to(ROOT / folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = module_files()


def _imports(name: str, path: Path) -> Iterator[Import]:
    yield from imports_in(name, path.read_text(), is_package=path.name == "__init__.py")


def imports_in(name: str, source: str, *, is_package: bool = False) -> Iterator[Import]:
    """The imports of module ``name`` given its source."""

    def walk(nodes: list[ast.stmt], top: bool) -> Iterator[Import]:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                yield from walk(node.orelse, top)
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(alias.name, (), top, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                yield Import(_absolute(name, is_package, node), _names(node), top, node.lineno)
            inner = top and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            for block in ("body", "orelse", "finalbody"):
                yield from walk(getattr(node, block, []), inner)
            for handler in getattr(node, "handlers", []):
                yield from walk(handler.body, inner)

    yield from walk(ast.parse(source).body, True)


def _names(node: ast.ImportFrom) -> tuple[str, ...]:
    return tuple(alias.name for alias in node.names)


def _absolute(name: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = name.split(".") if is_package else name.split(".")[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, *([node.module] if node.module else [])])


def _targets(imp: Import) -> set[str]:
    """The scot modules an import loads: the module, and submodules named in ``from``."""
    candidates = {imp.module} | {f"{imp.module}.{n}" for n in imp.names}
    return {m for m in candidates if m in MODULES}


def import_graph(*, deferred: bool) -> dict[str, set[str]]:
    """Module -> scot modules it imports (at module level; also in functions if
    ``deferred``)."""
    graph = {}
    for name, path in MODULES.items():
        edges: set[str] = set()
        for imp in _imports(name, path):
            if imp.top_level or deferred:
                edges |= _targets(imp)
        graph[name] = edges - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_cycles_finds_a_two_module_loop_and_ignores_a_chain() -> None:
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_graph_covers_the_library_and_the_commands() -> None:
    graph = import_graph(deferred=False)
    assert "scot_cli.validate" in graph["scot_cli.io"]
    assert "scot_cli.schema" in graph["scot_cli.validate"]
    assert "scot_cli.commands._common" in graph["scot_cli.commands.main"]


def test_no_import_cycle_among_module_level_imports() -> None:
    assert cycles(import_graph(deferred=False)) == []


def test_no_import_cycle_even_through_imports_inside_functions() -> None:
    assert cycles(import_graph(deferred=True)) == []


def private_imports(name: str, source: str, *, is_package: bool = False) -> list[str]:
    """``line module.name`` of every private name module ``name`` takes from another scot
    module (a private module of its own package, like ``commands._common``, is allowed)."""
    package = name if is_package else name.rpartition(".")[0]
    bad = []
    for imp in imports_in(name, source, is_package=is_package):
        if not imp.module.startswith("scot_cli") or imp.module == name:
            continue
        if any(map(_private, imp.module.split("."))) and imp.module.rpartition(".")[0] != package:
            bad.append(f"{imp.line} {imp.module}")
        bad += [f"{imp.line} {imp.module}.{n}" for n in imp.names if _private(n)]
    return bad


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_name_crosses_a_module_boundary(module: str) -> None:
    path = MODULES[module]
    assert private_imports(module, path.read_text(), is_package=path.name == "__init__.py") == []


def test_private_import_check_sees_private_names_across_packages_only() -> None:
    source = (
        "from scot_cli.schema import Table, _hidden\n"
        "from ._common import STATE\n"
        "from scot_cli.commands._common import RENAMED\n"
        "def f():\n"
        "    from scot_cli import __version__\n"
    )
    assert private_imports("scot_cli.commands.probe", source) == ["1 scot_cli.schema._hidden"]
    assert private_imports("scot_cli.probe", source) == [
        "1 scot_cli.schema._hidden",
        "3 scot_cli.commands._common",
    ]


def test_every_module_imports() -> None:
    """Each module imports in a fresh interpreter (an import cycle that Python cannot
    resolve fails here as an ImportError)."""
    names = [m for m in MODULES if not m.endswith("__main__")]
    code = (
        "import importlib, sys\n"
        "bad = []\n"
        f"for n in {names!r}:\n"
        "    try:\n"
        "        importlib.import_module(n)\n"
        "    except Exception as e:\n"
        "        bad.append(f'{n}: {e!r}')\n"
        "print('\\n'.join(bad))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == ""


def test_every_package_is_listed_for_setuptools() -> None:
    """A package missing from ``[tool.setuptools] packages`` works in the editable install
    and is absent from the wheel."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    packages = {m for m, path in MODULES.items() if path.name == "__init__.py"}
    assert packages - listed == set()
