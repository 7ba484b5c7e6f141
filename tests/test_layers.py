"""Who may import whom (DESIGN.md): bot → router → agents, and storage below them all.

`agents/` defines the narrow protocols its tools use and `bot/` hands it storage-backed
implementations, so agents never import storage; `localslack/` speaks only Slack's wire
protocol. Every import statement counts, wherever it is (inside a function, under
TYPE_CHECKING), because a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"agents", "router", "storage", "bot", "localslack"}
MAY_IMPORT: dict[str, set[str]] = {
    "storage": set(),
    "localslack": set(),
    "agents": set(),
    "router": {"agents", "storage"},
    "bot": {"agents", "router", "storage", "localslack"},
}


def imported_packages(path: Path) -> set[tuple[str, int]]:
    """Our top-level packages this module imports, with the line of each import."""
    found: set[tuple[str, int]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue  # relative imports stay inside their own package
        found |= {(n.split(".")[0], node.lineno) for n in names if n.split(".")[0] in OURS}
    return found


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_packages_import_only_the_layers_below(package: str) -> None:
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules, f"no modules found under {package}/"
    allowed = MAY_IMPORT[package] | {package}
    wrong = [
        f"{module.relative_to(ROOT)}:{line} imports {target}"
        for module in modules
        for target, line in sorted(imported_packages(module))
        if target not in allowed
    ]
    assert wrong == []


def test_the_check_sees_imports_anywhere_in_a_module(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from storage.store import Store\n"
        "def f():\n"
        "    import bot.wiring\n"
        "from . import sibling\n"
        "import agents.tool as tool\n",
        encoding="utf-8",
    )
    assert imported_packages(module) == {("storage", 3), ("bot", 5), ("agents", 7)}
