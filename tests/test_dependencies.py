"""Every third-party module imported under src/ and tests/ is provided by a requirement pyproject.toml declares.

A package that is only present because something else pulls it in (numpy through torch, jsonschema
through whatever was installed by hand) works until the day it does not; this check fails in seconds
instead of on a user's machine:

- a module imported under `src/` comes from the dependencies or from an extra (an extra's module is
  imported where its feature is used, so the core runs without it);
- a module imported under `tests/` comes from the dependencies or the `test` extra, unless the test
  file skips itself without it (`pytest.importorskip("verl")`): then any extra may provide it.

Which distribution provides a module is read from the installed packages; a module that is not
installed here must be named like its requirement (or be listed in `_PROVIDED_BY`).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = {"medo1", "tests"}
# Import names of requirements that are not installed in every environment we test in (verl's lives in
# its own venv) and whose distribution is named otherwise.
_PROVIDED_BY = {"hydra": "hydra-core"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(spec: str) -> str:
    return _norm(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec).group(1))


def declared(root: Path = ROOT) -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    core = {_requirement_name(s) for s in project["dependencies"]}
    extras = {name: {_requirement_name(s) for s in specs}
              for name, specs in project.get("optional-dependencies", {}).items()}
    return core, extras


def _skips_without(node: ast.AST) -> set[str]:
    """The modules a `pytest.importorskip("...")` call directly in this body (module or function) names."""
    found = set()
    for stmt in getattr(node, "body", []):
        call = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "importorskip"
                and call.args and isinstance(call.args[0], ast.Constant)):
            found.add(str(call.args[0].value).split(".")[0])
    return found


def _imported(node: ast.AST) -> set[str]:
    found: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Import):
            found |= {alias.name.split(".")[0] for alias in sub.names}
        elif isinstance(sub, ast.ImportFrom) and sub.level == 0 and sub.module:
            found.add(sub.module.split(".")[0])
    return found


def imports(path: Path) -> tuple[set[str], set[str]]:
    """The top-level modules a file imports (absolute imports only), and those it may take from any extra:
    the modules a module-level `pytest.importorskip(...)` names, and every import of a test function that
    skips itself with one (`pytest.importorskip("verl")`, then verl's own dependencies)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    guarded = _skips_without(tree)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _skips_without(node):
            guarded |= _imported(node)
    return _imported(tree), guarded


def third_party(modules: set[str], local: set[str]) -> set[str]:
    return {m for m in modules if m not in sys.stdlib_module_names and m not in FIRST_PARTY and m not in local}


def providers(module: str, installed: dict[str, list[str]]) -> set[str]:
    if module in installed:
        return {_norm(d) for d in installed[module]}
    return {_norm(_PROVIDED_BY.get(module, module))}


def missing_requirements(root: Path = ROOT) -> list[str]:
    """One line per import that no declared requirement provides (empty when all are declared)."""
    core, extras = declared(root)
    anywhere = core.union(*extras.values())
    installed = importlib.metadata.packages_distributions()
    test_helpers = {p.stem for p in (root / "tests").glob("*.py")}  # `import tiny` style, run from tests/
    problems = []
    for folder in ("src", "tests"):
        for path in sorted((root / folder).rglob("*.py")):
            found, guarded = imports(path)
            for module in sorted(third_party(found, test_helpers)):
                allowed = anywhere if folder == "src" or module in guarded else core | extras.get("test", set())
                if not providers(module, installed) & allowed:
                    where = "the dependencies or an extra" if allowed is anywhere else "the dependencies or [test]"
                    problems.append(f"{path.relative_to(root)} imports {module!r} (from "
                                    f"{', '.join(sorted(providers(module, installed)))}), which {where} do not declare")
    return problems


def test_every_imported_package_is_declared():
    assert missing_requirements() == []


def test_the_check_finds_an_undeclared_import(tmp_path):
    """The check itself: a test that imports a package nothing declares is named, with its file."""
    (tmp_path / "src").mkdir()
    tests = tmp_path / "tests"
    tests.mkdir()
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (tests / "test_x.py").write_text("import jsonschema_not_declared\nimport numpy\nfrom tests import tiny\n")
    (tests / "test_y.py").write_text("import pytest\npytest.importorskip('verl')\nimport verl\n")
    assert missing_requirements(tmp_path) == [
        "tests/test_x.py imports 'jsonschema_not_declared' (from jsonschema-not-declared), which the dependencies "
        "or [test] do not declare"]

