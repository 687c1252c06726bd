"""The shape of the source tree: small files in the Discord layer, and no import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

SOURCE = REPO / "src"
PACKAGE = SOURCE / "armsbot"
BOT = PACKAGE / "bot"
BOT_FILE_LINES = 350


def module_name(path: Path, source: Path = SOURCE) -> str:
    """The dotted name of a module under ``source`` (a package is named by its __init__.py)."""
    parts = list(path.relative_to(source).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node outside ``if TYPE_CHECKING:`` blocks (their bodies never run)."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


def imported_modules(path: Path, known: set[str], source: Path = SOURCE) -> set[str]:
    """The armsbot modules a file imports at run time, at its top or inside functions.

    ``from package import name`` counts as importing ``package.name`` when that is a module, and
    ``package`` otherwise. Imports under ``if TYPE_CHECKING:`` are left out: they never run, so
    they cannot take part in a cycle (annotations are strings under ``from __future__ import
    annotations``).
    """
    own = module_name(path, source)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in known else base)
    return {name for name in found if name in known and name != own}


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Each module of a package and the package's modules it imports at run time."""
    source = package.parent
    paths = sorted(package.rglob("*.py"))
    known = {module_name(path, source) for path in paths}
    return {module_name(path, source): imported_modules(path, known, source) for path in paths}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_file_in_the_discord_layer_is_over_350_lines() -> None:
    long_files = {
        str(path.relative_to(REPO)): lines
        for path in sorted(BOT.rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > BOT_FILE_LINES
    }
    assert long_files == {}, f"split these files (limit {BOT_FILE_LINES} lines): {long_files}"


def test_no_import_cycle_among_armsbot_modules() -> None:
    found = cycles(import_graph())
    assert found == [], f"modules that import each other, directly or through others: {found}"


def test_the_cycle_finder_sees_deferred_imports_and_skips_type_checking_ones(
    tmp_path: Path,
) -> None:
    """An import inside a function counts, one under TYPE_CHECKING does not, relative imports
    and ``from package import module`` are followed, and a cycle through three modules is found."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "sub/__init__.py": "",
        "a.py": "from pkg.sub import b\n",
        "sub/b.py": "def later() -> None:\n    from ..c import thing\n",
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.d\n"
        "import pkg.a\nthing = 1\n",
        "d.py": "import pkg.c\n",
    }
    for name, body in files.items():
        (package / name).write_text(body, encoding="utf-8")
    graph = import_graph(package)
    assert graph["pkg.a"] == {"pkg.sub.b"}
    assert graph["pkg.sub.b"] == {"pkg.c"}
    assert graph["pkg.c"] == {"pkg.a"}
    assert graph["pkg.d"] == {"pkg.c"}
    assert cycles(graph) == [["pkg.a", "pkg.c", "pkg.sub.b"]]
    assert cycles({"x": {"y"}, "y": set()}) == []
