"""The four route names are written once (agents/routes.py); everything else uses ROUTES/Route.

A second list of them drifts: a fifth specialist would be offered by one part and refused by
another. Checked on the source: any tuple, list, set or subscript naming all four fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

from agents.routes import ROUTES

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "router", "agents", "storage", "localslack")


def lists_of_routes(path: Path) -> list[int]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            names = {e.value for e in node.elts if isinstance(e, ast.Constant)}
            if set(ROUTES) <= names:
                found.append(node.lineno)
    return found


def test_the_route_names_are_written_once() -> None:
    written = {
        str(path.relative_to(ROOT)): lines
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if (lines := lists_of_routes(path))
    }
    assert written == {"agents/routes.py": [11]}
