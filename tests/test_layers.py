"""The package's layers run one way, cli -> pipeline -> stages -> stage modules -> verify / llm -> records,
and no module imports itself back through others (lazy imports inside functions count too: they run)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"

# A module of a layer on the left never imports one on the right.
LOWER_NEVER_IMPORTS = [
    (("medo1.records", "medo1.errors", "medo1.jsonl", "medo1.thinking"),
     ("medo1.llm", "medo1.verify", "medo1.train", "medo1.cli", "medo1.pipeline", "medo1.stages", "medo1.recipe")),
    (("medo1.llm", "medo1.verify"),
     ("medo1.train", "medo1.reasoning", "medo1.curate", "medo1.evaluate", "medo1.cli", "medo1.pipeline",
      "medo1.stages", "medo1.recipe", "medo1.report")),
    (("medo1.train", "medo1.reasoning", "medo1.curate", "medo1.evaluate", "medo1.integrations"),
     ("medo1.cli", "medo1.pipeline", "medo1.stages", "medo1.report")),
    (("medo1.stages", "medo1.rundir", "medo1.report"), ("medo1.cli", "medo1.pipeline")),
]


def modules(root: Path = SRC) -> dict[str, Path]:
    found = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(root: Path = SRC) -> dict[str, set[str]]:
    """module -> the medo1 modules it imports (a submodule import is an edge to the submodule only)."""
    mods = modules(root)

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, set[str]] = {m: set() for m in mods}
    for module, path in mods.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                       and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in mods]
                names = subs if len(subs) == len(node.names) else subs + [base]
            else:
                continue
            for name in names:
                target = resolve(name) if name.startswith("medo1") else None
                if target and target != module:
                    edges[module].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
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

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_no_import_cycles():
    assert cycles(imports()) == []


def test_layers_run_one_way():
    edges = imports()
    wrong = [f"{a} imports {b}" for lower, higher in LOWER_NEVER_IMPORTS for a, targets in edges.items()
             if _under(a, lower) for b in targets if _under(b, higher)]
    assert wrong == []


def test_the_check_finds_a_cycle(tmp_path):
    package = tmp_path / "medo1"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from medo1.b import x\n")
    (package / "b.py").write_text("def f():\n    from medo1 import a\n")
    (package / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from medo1.a import y\n")
    assert cycles(imports(tmp_path)) == [["medo1.a", "medo1.b"]]
