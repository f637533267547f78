"""No two modules of zoo/ import each other, directly or around a loop, counting every import statement
(top-level and inside functions: a lazy import still makes two modules know each other). Issue 9 item 4."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

ZOO = Path(__file__).resolve().parents[1] / "zoo"


def _modules(root: Path) -> dict[str, Path]:
    mods = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


def import_graph(root: Path = ZOO) -> dict[str, set[str]]:
    """Module -> the zoo modules it imports; ``from pkg import name`` is ``pkg.name`` when that is a module."""
    mods = _modules(root)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                graph[mod].update(a.name for a in node.names if a.name in mods)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                for a in node.names:
                    target = f"{base}.{a.name}"
                    if target in mods:
                        graph[mod].add(target)
                    elif base in mods:
                        graph[mod].add(base)
        graph[mod].discard(mod)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_zoo_has_no_import_cycle():
    # before: federated/attack <-> federated/problems, federated/engines/flower_engine <-> federated/simulator,
    # session/problems <-> session/session
    assert cycles(import_graph()) == []


def test_the_checker_finds_a_cycle_and_a_lazy_one(tmp_path):
    pkg = tmp_path / "zoo"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from zoo.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from zoo import a  # lazy, still an edge\n")
    (pkg / "c.py").write_text("from . import a\n")  # one way only: no cycle
    assert cycles(import_graph(pkg)) == [["zoo.a", "zoo.sub.b"]]


def test_moved_names_keep_working_for_one_release():
    from zoo.federated import deploy, problem
    from zoo.federated import problems as builtins
    from zoo.federated.engines import flower_engine
    from zoo.session import callables, session

    assert (
        builtins.FederatedProblem is problem.FederatedProblem and builtins.WeightedSum is problem.WeightedSum
    )
    assert session.load_callable is callables.load_callable
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert flower_engine.make_server_app is deploy.make_server_app
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
