"""The import rules that keep botkit's layers apart, read from the source with `ast`:

- the core (everything in botkit/ except the CLI and the HTTP server, which assemble the product)
  imports nothing from the feedback loop or the app, at any level, even inside a function;
- botkit's modules import each other without cycles at module level (imports under
  `if TYPE_CHECKING:` are for type checkers and do not run).
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
# Folder -> the package it is installed as (pyproject's [tool.setuptools.package-dir]).
PACKAGES = {"botkit": "botkit", "plugins": "botkit.default_plugins", "feedback": "botkit.feedback",
            "apps": "botkit.apps"}
ASSEMBLY = ("botkit.cli", "botkit.server")  # may import anything: they put the product together
FORBIDDEN_IN_CORE = ("botkit.feedback", "botkit.apps")


def modules(root: Path = REPO, packages: dict[str, str] = PACKAGES) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of botkit's packages under `root`."""
    found = {}
    for folder, package in packages.items():
        for path in sorted((root / folder).rglob("*.py")):
            parts = list(path.relative_to(root / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path], *, module_level: bool) -> set[str]:
    """The botkit modules `name` imports: every import, or only those that run when it is imported."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    nodes = _module_level(tree.body) if module_level else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from botkit.knowledge import store` imports the module botkit.knowledge.store.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        found.update(_nearest_module(t, known) for t in targets if t.startswith("botkit"))
    found.discard(None)
    found.discard(name)
    return found


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements that run on import: the top level, into if/try/with blocks, but not function or
    class bodies (run later) nor `if TYPE_CHECKING:` (never runs)."""
    out = []
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            out.extend(_module_level(node.orelse))
            continue
        out.append(node)
        for field in ("body", "orelse", "finalbody", "handlers"):
            out.extend(_module_level(getattr(node, field, []) or []))
    return out


def _nearest_module(target: str, known: dict[str, Path]) -> str | None:
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def core_violations(known: dict[str, Path]) -> list[str]:
    """'core module -> forbidden module' for every import of the feedback loop or the app in the core."""
    core = {n: p for n, p in known.items() if n.startswith("botkit.") and not n.startswith(ASSEMBLY)
            and not n.startswith(("botkit.default_plugins", *FORBIDDEN_IN_CORE))}
    core["botkit"] = known["botkit"]
    return sorted(f"{n} -> {t}" for n, p in core.items() for t in imports(n, p, known, module_level=False)
                  if t.startswith(FORBIDDEN_IN_CORE))


def import_cycle(known: dict[str, Path]) -> list[str] | None:
    """One cycle of module-level imports among `known`, or None."""
    graph = {n: imports(n, p, known, module_level=True) for n, p in known.items()}
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        return exc.args[1]
    return None


def test_the_core_imports_nothing_from_the_feedback_loop_or_the_app():
    known = modules()
    assert {"botkit.dialogue", "botkit.models.loading", "botkit.feedback.store", "botkit.apps.chat"} <= set(known)
    assert core_violations(known) == []


def test_botkit_modules_import_each_other_without_cycles():
    assert import_cycle(modules()) is None


# The checks themselves, on a throwaway tree: each catches the mistake it is there for.

@pytest.fixture
def tree(tmp_path):
    def write(files: dict[str, str]) -> dict[str, Path]:
        for rel, text in {"botkit/__init__.py": "", "feedback/__init__.py": "", **files}.items():
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_text(text)
        return modules(tmp_path, {"botkit": "botkit", "feedback": "botkit.feedback"})
    return write


def test_a_feedback_import_in_the_core_is_caught_even_inside_a_function(tree):
    known = tree({"botkit/dialogue.py": "def f():\n    from botkit.feedback.store import RankingStore\n",
                  "botkit/server/app.py": "from botkit.feedback import store\n",
                  "feedback/store.py": "from botkit import dialogue\n"})
    assert core_violations(known) == ["botkit.dialogue -> botkit.feedback.store"]


def test_a_module_level_cycle_is_caught_and_deferred_or_type_only_imports_are_not(tree):
    known = tree({"botkit/tasks.py": "from botkit.plugins import get_tasks\n",
                  "botkit/plugins.py": "from botkit import hookspecs\n",
                  "botkit/hookspecs.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                         "    from botkit.tasks import Task\n"
                                         "def f():\n    from botkit.tasks import Task\n"})
    assert import_cycle(known) is None
    (known["botkit.hookspecs"]).write_text("from botkit.tasks import Task\n")
    assert set(import_cycle(known)) == {"botkit.tasks", "botkit.plugins", "botkit.hookspecs"}
