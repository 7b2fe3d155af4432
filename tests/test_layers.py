"""The layer table holds (issue 29): no import cycle, no private member read across modules.

The table itself is checked by import-linter (``lint-imports``, run by ``make lint``;
the contracts are in pyproject.toml). These two rules are checked here, over the same
import graph (grimp, import-linter's own), so lazy imports and imports under
``TYPE_CHECKING`` count like any other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
OWN = {"self", "cls"}
# Reads of another library's internals, not of a panel module's: llama-cpp-python's model and
# grammar handles (the version is pinned in pyproject.toml; see providers/local_grammar.py).
THIRD_PARTY = {("local_grammar.py", "_model"), ("local_grammar.py", "_grammar"),
               ("local_grammar.py", "_root")}  # fmt: skip


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph.find_modules_directly_imported_by(nxt)))))
                    break
                if nxt in on:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_module_imports_itself_back() -> None:
    graph = grimp.build_graph("panel", cache_dir=None)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.b", "a.c", "a.d"):
        graph.add_module(name)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.b")
    graph.add_import(importer="a.c", imported="a.d")
    assert _cycles(graph) == [["a.b", "a.c"]]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _defined(tree: ast.AST) -> set[str]:
    """Private names a module defines: functions, classes, attributes it assigns."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if _private(n)}


def _reads(tree: ast.AST) -> list[tuple[int, str]]:
    """``x._name`` where ``x`` is not ``self``, ``cls`` or ``super()``."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not _private(node.attr):
            continue
        value = node.value
        if isinstance(value, ast.Name) and value.id in OWN:
            continue
        if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "super":
            continue
        found.append((node.lineno, node.attr))
    return found


def private_reads(paths: list[Path]) -> list[str]:
    """Reads of a private member that another of ``paths`` defines and the reader does not."""
    trees = {path: ast.parse(path.read_text(), str(path)) for path in paths}
    defined = {path: _defined(tree) for path, tree in trees.items()}
    out = []
    for path, tree in trees.items():
        for line, name in _reads(tree):
            owners = [p for p, names in defined.items() if name in names and p != path]
            if owners and name not in defined[path] and (path.name, name) not in THIRD_PARTY:
                out.append(f"{path.name}:{line}: .{name} of {owners[0].name}")
    return out


def test_no_module_reads_another_modules_private_members() -> None:
    assert private_reads(sorted((ROOT / "panel").rglob("*.py"))) == []


def test_the_private_read_check_finds_one(tmp_path: Path) -> None:
    (tmp_path / "owner.py").write_text("class P:\n    def _error(self):\n        pass\n")
    (tmp_path / "user.py").write_text("def f(p):\n    return p._error()\n")
    assert private_reads(sorted(tmp_path.glob("*.py"))) == ["user.py:2: ._error of owner.py"]


def test_no_module_is_over_400_lines_and_the_kernel_stays_small() -> None:
    """docs/ARCHITECTURE.md's size rules: no module over 400 lines; at most 12 at the top."""
    root = Path(__file__).resolve().parents[1] / "panel"
    long = {
        str(p.relative_to(root)): n
        for p in root.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}
    assert len(list(root.glob("*.py"))) <= 12
