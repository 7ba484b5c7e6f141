"""The CLI against a real database file: help, upgrade, current, purge."""

from __future__ import annotations

from pathlib import Path

from tests.bot.test_settings import switchboard


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
