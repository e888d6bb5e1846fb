"""The package layout: no import cycles among the project's modules, and each layer imports only
the layers below it (core < store < ui < telegram / cli)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "bot"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Project modules ``path`` imports, at import time or inside functions (a function-level
    import is still a dependency); imports only for type annotations do not count."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names if alias.name in known)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                for alias in child.names:  # "from bot.core import knowledge" names a module
                    full = f"{child.module}.{alias.name}"
                    found.add(full if full in known else child.module)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {name for name in found if name in known}


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(paths)
    return {name: imports_of(path, known) - {name} for name, path in paths.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules around it, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (found := walk(start)):
            return found
    return None


def test_no_import_cycles() -> None:
    cycle = find_cycle({name: {d for d in deps if not _is_package_init(name, d)} for name, deps in graph().items()})
    assert cycle is None, " -> ".join(cycle or [])


def _is_package_init(importer: str, imported: str) -> bool:
    """``from bot.core import knowledge`` also runs ``bot/core/__init__.py``: not an edge of its own."""
    return importer.startswith(imported + ".")


def test_the_cycle_finder_finds_a_cycle() -> None:
    """Negative control: a cycle of three is reported, an acyclic graph is not."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


#: What each layer may import from the project (besides itself and bot.config).
ALLOWED = {
    "bot.core": {"bot.core"},
    "bot.store": {"bot.core", "bot.store"},
    "bot.ui": {"bot.core", "bot.ui"},
    "bot.telegram": {"bot.core", "bot.store", "bot.ui", "bot.telegram"},
    "bot.cli": {"bot.core", "bot.store", "bot.ui", "bot.telegram", "bot.cli"},
}


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layers_import_only_what_is_below_them(layer: str) -> None:
    wrong = []
    for name, deps in graph().items():
        if name == layer or name.startswith(layer + "."):
            for dep in deps:
                top = ".".join(dep.split(".")[:2])
                if dep != "bot.config" and top not in ALLOWED[layer] and dep != "bot":
                    wrong.append(f"{name} imports {dep}")
    assert wrong == []


def test_the_wheel_lists_every_package() -> None:
    """pyproject.toml names the packages explicitly (the data folders are mapped into the wheel):
    a new subpackage missing there would be missing from an installed bot."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    present = {module_name(p.parent / "__init__.py") for p in PACKAGE.rglob("__init__.py")}
    assert present <= listed, sorted(present - listed)
