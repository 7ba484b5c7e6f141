"""Database URLs as people write them, turned into the async drivers' URLs.

Apart from `storage.database` so that checking a setting needs only SQLAlchemy's URL parser,
not the engine, the drivers and SQLModel.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from storage.errors import DatabaseURLError


def normalize_url(raw: str) -> URL:
    """Turn the URL people write (Heroku's `postgres://`, plain `sqlite:///`) into an async one."""
    try:
        url = make_url(raw.strip())
    except ArgumentError as exc:
        raise DatabaseURLError(f"cannot parse {raw!r} as a database URL") from exc
    backend = url.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return url.set(drivername="postgresql+asyncpg")
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    raise DatabaseURLError(f"unsupported database {backend!r} (only sqlite and postgresql)")
