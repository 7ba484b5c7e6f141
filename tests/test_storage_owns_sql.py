"""SQL and database engines live in storage/ only: the other packages ask storage's functions.

Checked on the source, so a query written into bot/ or router/ fails here, not in review.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = ("bot", "router", "agents", "localslack")
ENGINES = {"create_engine", "create_async_engine", "engine_from_config"}
SQL = re.compile(
    r"^\s*(SELECT .+|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE (TABLE|INDEX)|DROP|ALTER|PRAGMA)\b"
)


def problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("sqlalchemy")
        ):
            names = {a.name for a in node.names}
            if names & (ENGINES | {"text"}):
                found.append(f"{path.name}:{node.lineno} imports {sorted(names)}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value):
            found.append(f"{path.name}:{node.lineno} SQL text {node.value[:40]!r}")
    return found


def test_no_sql_text_or_engine_outside_storage() -> None:
    found = [p for pkg in OUTSIDE for f in sorted((ROOT / pkg).rglob("*.py")) for p in problems(f)]
    assert found == []


def test_the_check_sees_sql_where_it_is() -> None:
    assert problems(ROOT / "storage" / "job_store.py"), "its create_engine"
    assert any("SQL text" in p for p in problems(ROOT / "storage" / "knowledge.py")), "its FTS5"
