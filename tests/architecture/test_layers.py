"""The package's import rule, checked from the source: stages import one way.

Each stage is a subpackage of ``prospect_predictor`` whose ``__init__.py`` docstring
declares, on a line ``May import: a, b, c.``, the stages it may use. This test reads every
module with :mod:`ast`, collects every import of the package — at the top, inside
functions (lazy) and under ``TYPE_CHECKING`` alike — and fails on an import that a
stage's declaration does not allow, on a declaration that is not a strict order (a
cycle), and on a cycle between modules.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = "prospect_predictor"
SOURCE = Path(__file__).parents[2] / "src" / PACKAGE
# Modules at the top of the package and the stage each belongs to. ``model`` keeps its
# path because bundles pickle names from it (see its docstring).
ROOT_MODULES = {
    PACKAGE: "base",
    f"{PACKAGE}.domain": "base",
    f"{PACKAGE}.errors": "base",
    f"{PACKAGE}.faults": "base",
    f"{PACKAGE}.model": "modeling",
    f"{PACKAGE}.__main__": "cli",
}
DECLARATION = re.compile(r"^May import: (?P<stages>[a-z_,\s]*)\.", re.MULTILINE)


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(SOURCE.rglob("*.py"))}


def stage_of(module: str) -> str:
    if module in ROOT_MODULES:
        return ROOT_MODULES[module]
    parts = module.split(".")
    if len(parts) < 2:
        raise AssertionError(f"{module}: not in the package")
    return parts[1]


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """Every module of the package that ``module`` imports, wherever the import is."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import name``: the submodule pkg.name when there is one, else pkg
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            while name and name not in known:  # a.b.func -> a.b
                name = name.rpartition(".")[0]
            if name.startswith(PACKAGE) and name != module:
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    found = modules()
    return {m: imports_of(m, p, set(found)) for m, p in found.items()}


def declared() -> dict[str, set[str]]:
    """Stage -> the stages its ``__init__.py`` docstring says it may import."""
    rules = {"base": set()}
    for init in sorted(SOURCE.glob("*/__init__.py")):
        stage = init.parent.name
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        match = DECLARATION.search(doc)
        assert match, f"{init}: the docstring has no line 'May import: ...' naming its stages"
        names = {s.strip() for s in match["stages"].split(",") if s.strip()}
        rules[stage] = names
    return rules


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_every_stage_declares_known_stages():
    rules = declared()
    for stage, allowed in rules.items():
        unknown = allowed - set(rules)
        assert not unknown, f"{stage}: 'May import' names unknown stage(s) {sorted(unknown)}"
        assert stage not in allowed, f"{stage}: a stage need not declare itself"


def test_the_declared_order_has_no_cycle():
    assert find_cycle(declared()) is None


def test_no_import_goes_against_the_declared_order():
    rules = declared()
    wrong = []
    for module, targets in import_graph().items():
        stage = stage_of(module)
        assert stage in rules, f"{module}: stage {stage!r} has no __init__.py declaration"
        for target in sorted(targets):
            other = stage_of(target)
            if other != stage and other not in rules[stage]:
                wrong.append(f"{module} imports {target} ({stage} may not import {other})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle_between_modules():
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_the_graph_sees_lazy_and_type_checking_imports(tmp_path, monkeypatch):
    """The checker itself: an import inside a function or under TYPE_CHECKING counts."""
    package = tmp_path / PACKAGE
    (package / "low").mkdir(parents=True)
    (package / "high").mkdir()
    (package / "__init__.py").write_text("")
    (package / "low" / "__init__.py").write_text('"""Low.\n\nMay import: base.\n"""\n')
    (package / "high" / "__init__.py").write_text('"""High.\n\nMay import: low.\n"""\n')
    (package / "high" / "thing.py").write_text("X = 1\n")
    (package / "low" / "lazy.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from prospect_predictor.high import thing\n"
        "def f():\n    from . import helper\n    import prospect_predictor.high.thing\n"
    )
    (package / "low" / "helper.py").write_text("from prospect_predictor.low import lazy\n")
    monkeypatch.setitem(globals(), "SOURCE", package)
    graph = import_graph()
    assert graph[f"{PACKAGE}.low.lazy"] == {f"{PACKAGE}.high.thing", f"{PACKAGE}.low.helper"}
    assert find_cycle(graph) == [f"{PACKAGE}.low.helper", f"{PACKAGE}.low.lazy"] + [
        f"{PACKAGE}.low.helper"
    ]
    with pytest.raises(AssertionError, match="low may not import high"):
        test_no_import_goes_against_the_declared_order()


LONG_MODULE_LINES = 550  # "about 500 lines"


def test_a_long_module_says_why_it_is_one_piece():
    """A module over about 500 lines is one cohesive thing, and its docstring says why."""
    unexplained = []
    for module, path in modules().items():
        lines = len(path.read_text().splitlines())
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        if lines > LONG_MODULE_LINES and "Its length" not in doc:
            unexplained.append(f"{module}: {lines} lines and no 'Its length ...' in its docstring")
    assert not unexplained, "\n".join(unexplained)


def test_the_tests_of_a_stage_sit_under_its_name():
    """tests/<stage>/ for each stage's tests (tests/architecture for these, tests/faults for
    faults that cross stages)."""
    stages = set(declared()) - {"base"}
    folders = {p.name for p in Path(__file__).parents[1].iterdir() if p.is_dir()}
    # faults: the cross-stage fault suite (overwrites, input edges, kill points,
    # concurrency, tampered bundles), whose tests go through several stages at once
    folders -= {"architecture", "faults", "__pycache__"}
    assert folders <= stages, f"test folders that are no stage: {sorted(folders - stages)}"
