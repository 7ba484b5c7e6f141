"""`switchboard route`, `eval routing --corrections` and `router retrain` on a real database.

In-process through click's runner: the product's modules are already imported here, which
spares each command the seconds a fresh interpreter spends importing litellm.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from click.testing import CliRunner, Result

from bot.cli.main import cli
from storage import migrate
from storage.corrections import NewCorrection
from storage.database import Database
from storage.store import Store

WORDS = "my report from the team offsite is gone"


def run(*args: str, env: dict[str, str], cwd: Path) -> Result:
    unset = {k: None for k in os.environ if k.startswith(("SLACK_", "SWITCHBOARD_"))}
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args), env={**unset, **env}, catch_exceptions=False)
    finally:
        os.chdir(old)


async def _seed(url: str) -> None:
    db = Database(url)
    await migrate.upgrade(db)
    store = Store.over(db)
    await store.corrections.record(
        NewCorrection(
            message_id=7,
            team_id="T1",
            channel="C1",
            thread_ts="1.0",
            text=WORDS,
            from_route="triage",
            to_route="escalation",
            corrected_by="U_LEAD",
        )
    )
    await store.close()


def test_route_in_an_empty_folder_creates_no_database(tmp_path: Path) -> None:
    env = {"SWITCHBOARD_CACHE_DIR": str(tmp_path / "cache"), "DATABASE_URL": "sqlite:///sb.db"}
    result = run("route", "Hola, no puedo acceder a mi cuenta", env=env, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert (decision["route"], decision["language"]) == ("technical", "es")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]


def test_corrections_are_scored_learned_and_retrained(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sb.db'}"
    asyncio.run(_seed(url))
    env = {"DATABASE_URL": url, "SWITCHBOARD_CACHE_DIR": str(tmp_path / "cache")}

    scored = run("eval", "routing", "--corrections", env=env, cwd=tmp_path)
    assert scored.exit_code == 0, scored.output
    assert scored.stdout.startswith("1 corrections: accuracy 1.000 with them learned")

    retrained = run("router", "retrain", env=env, cwd=tmp_path)
    assert retrained.exit_code == 0, retrained.output
    assert "(1 corrections)" in retrained.stdout
    assert (tmp_path / "cache").is_dir()

    routed = run("route", WORDS, env=env, cwd=tmp_path)
    assert json.loads(routed.stdout)["route"] == "escalation"

    neither = run("eval", "routing", env=env, cwd=tmp_path)
    assert neither.exit_code == 2 and "--corrections" in neither.output
