"""`switchboard digest send`: a dry run prints the blocks and writes the chart; a real run posts
to Slack (localslack) through the outbox and the three-step upload."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from localslack import LocalSlack
from storage.database import Database
from storage.migrate import upgrade
from storage.store import Store
from tests.helpers.cli import switchboard
from tests.helpers.digests import digest_messages

TOML = """
[[digests]]
name = "daily"
channel = "C0SUPPORT"
cron = "0 9 * * 1-5"
timezone = "Europe/Berlin"
window = "24h"
"""


async def _database(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "switchboard.toml").write_text(TOML)
    url = f"sqlite:///{tmp_path / 'sb.db'}"
    store = Store.over(Database(url))
    await upgrade(store.db)
    thread = await store.memory.thread("T0LOCAL", "C0SUPPORT", "1.000100")
    assert thread.id is not None
    await store.memory.append(thread.id, role="user", text="Refund for invoice INV-7?")
    await store.memory.append(thread.id, role="assistant", agent="billing", text="Done.")
    await store.close()
    return {"DATABASE_URL": url}


async def test_dry_run_prints_blocks_and_writes_the_chart(tmp_path: Path) -> None:
    env = await _database(tmp_path)
    result = await asyncio.to_thread(
        switchboard,
        *("digest", "send", "daily", "--window", "7d", "--dry-run", "--chart", "out.png"),
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert "*Conversations*\\n1 (+1)" in json.dumps(printed["blocks"])
    assert "chart written to out.png" in result.stderr
    assert (tmp_path / "out.png").read_bytes().startswith(b"\x89PNG")
    wrong = await asyncio.to_thread(
        switchboard, "digest", "send", "weekly", "--dry-run", env=env, cwd=tmp_path
    )
    assert wrong.returncode == 2
    assert "no digest named 'weekly' (digests: daily)" in wrong.stderr


async def test_send_posts_the_digest_and_its_chart(tmp_path: Path, slack: LocalSlack) -> None:
    env = await _database(tmp_path) | {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_API_URL": slack.api_url,
    }
    result = await asyncio.to_thread(switchboard, "digest", "send", "daily", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("posted digest daily to C0SUPPORT")
    [message] = digest_messages(slack)
    _, chart = slack.thread("support", str(message["ts"]))
    assert chart["files"][0]["mimetype"] == "image/png"
