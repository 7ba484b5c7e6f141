"""Schema migrations with Alembic, driven from code so no alembic.ini has to be found on disk.

The engine is the application's own (passed in), and the scripts ship inside the package, so
`switchboard db upgrade` works from any directory and in an installed wheel.

Every start of the bot asks whether the schema is current; that question is answered without
Alembic (the revision in `alembic_version`, the head read from the scripts' text), because
importing Alembic (with Mako and Pygments behind it) costs a running bot 11 MB of its memory.
Alembic is imported only to change the schema.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage.database import Database

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPTS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps
_REVISION = re.compile(r"""^(down_)?revision\b[^=\n]*=\s*['"]?([^'"\n]*)""", re.MULTILINE)


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to `revision`; a no-op when it is there already."""
    from alembic import command

    async with db.engine.begin() as conn:
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(db: Database, revision: str) -> None:
    from alembic import command

    async with db.engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


async def current(db: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(_stamped)


def _stamped(sync: Connection) -> str | None:
    if not inspect(sync).has_table(VERSION_TABLE):
        return None
    rows = list(sync.execute(text("SELECT version_num FROM alembic_version")).scalars())
    if len(rows) > 1:  # a linear history stamps one row; Alembic refuses this too
        raise ValueError(f"{VERSION_TABLE} holds more than one revision: {sorted(rows)}")
    return str(rows[0]) if rows else None


def head() -> str:
    """The newest script: the revision no other script names as its down_revision."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (SCRIPTS / "versions").glob("*.py"):
        for down, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (parents if down else revisions).add(value)
    [newest] = revisions - parents
    return newest
