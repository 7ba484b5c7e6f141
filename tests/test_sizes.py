"""The house limits on size, for every package of the product: no module over 500 lines, no
function over 80 (the migrations, generated one per revision, aside).

Long modules and functions are where the agent loop and the specialists' policies grew hard to
read; the check keeps them split by concept rather than by accident.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("agents", "router", "bot", "storage", "localslack")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def modules() -> list[Path]:
    return sorted(
        p
        for package in CHECKED
        for p in (ROOT / package).rglob("*.py")
        if "migrations" not in p.parts
    )


def test_no_module_is_over_the_limit() -> None:
    found = modules()
    assert found
    long = {
        str(p.relative_to(ROOT)): n
        for p in found
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_the_limit() -> None:
    long: dict[str, int] = {}
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = size
    assert long == {}
