"""The CLI against a real database file: help, upgrade, current, purge."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.helpers.cli import switchboard
from tests.helpers.postgres import PG_ADMIN_URL


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = switchboard("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("config", "db"):
        assert command in result.stdout


def test_db_upgrade_current_and_purge_on_a_fresh_file(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'sb.db'}"}
    first = switchboard("db", "upgrade", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "(was None)" in first.stdout
    again = switchboard("db", "upgrade", env=env, cwd=tmp_path)
    assert again.returncode == 0 and "(was" not in again.stdout
    current = switchboard("db", "current", env=env, cwd=tmp_path)
    lines = current.stdout.splitlines()
    assert lines[0].split()[-1] == lines[1].split()[-1] != "database"
    purge = switchboard("db", "purge", "--older-than", "30", env=env, cwd=tmp_path)
    assert purge.returncode == 0 and purge.stdout.startswith("purged 0 threads")


def _postgres(database: str, *, port: int | None = None, password: str = "") -> str:
    url = make_url(PG_ADMIN_URL).set(database=database, password=password or None)
    if port is not None:
        url = url.set(port=port)
    return url.render_as_string(hide_password=False)


def _postgres_up() -> bool:
    admin = make_url(PG_ADMIN_URL)
    try:
        socket.create_connection((admin.host or "127.0.0.1", admin.port or 5432), 2).close()
    except OSError:
        return False
    return True


@pytest.mark.parametrize(
    ("url", "says"),
    [
        pytest.param(
            _postgres("nosuchdb", password="hunter2"),
            'database "nosuchdb" does not exist',
            id="database-name",
        ),
        pytest.param(_postgres("postgres", port=1), "cannot connect to", id="port"),
        pytest.param(
            "postgresql://postgres@nosuchhost.invalid:5432/postgres",
            'cannot find the host "nosuchhost.invalid"',
            id="host",
        ),
        pytest.param(
            "sqlite:////nonexistent/dir/sb.db",
            "cannot open /nonexistent/dir/sb.db: the folder /nonexistent/dir does not exist",
            id="sqlite-path",
        ),
    ],
)
def test_a_database_that_cannot_be_reached_is_one_line(tmp_path: Path, url: str, says: str) -> None:
    if "nosuchdb" in url and not _postgres_up():
        pytest.skip("no PostgreSQL to tell a wrong database name from a wrong port")
    result = switchboard("db", "current", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("switchboard: DATABASE_URL: ") and says in line, line
    assert "hunter2" not in result.stderr + result.stdout
