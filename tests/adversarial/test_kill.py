"""kill -9 of the real bot process while Slack holds the on-call page: one page, not two.

The bot runs as `switchboard run` in its own process, over HTTP, against localslack. Slack is
made to carry out the page's chat.postMessage but hold its answer; the process is killed with
SIGKILL in that moment, then started again. The restart finds the approved page, runs it again
under the same key, finds the first post by its tag, and does not page twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from localslack import LocalSlack
from storage.database import Database
from storage.migrate import upgrade
from tests.helpers.adversarial import LEADS, ONCALL, asks_for_approval

PAGE = "The API is down for everyone since 09:10, page on-call"
CONFIG = f"""
[escalation]
oncall_channel = "#oncall"
oncall_usergroup = "{ONCALL}"

[approvals.default]
groups = ["{LEADS}"]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(slack: LocalSlack, tmp: Path) -> dict[str, str]:
    (tmp / "switchboard.toml").write_text(CONFIG)
    return {
        **os.environ,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp / 'bot.db'}",
        "SWITCHBOARD_CONFIG": str(tmp / "switchboard.toml"),
        "SWITCHBOARD_DEMO_LEDGER": str(tmp / "ledger.db"),
        "SWITCHBOARD_LOG_FORMAT": "json",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }


@contextlib.asynccontextmanager
async def process(
    slack: LocalSlack, env: dict[str, str]
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`switchboard run` on a free port, listening (it says so on stdout) and receiving events."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--host", "127.0.0.1", "--port", str(port),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    draining: asyncio.Task[None] | None = None
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(60):  # a busy machine; the line comes once it listens
            while b"is listening on" not in (line := await proc.stdout.readline()):
                assert line, "the bot exited while starting"
        draining = asyncio.create_task(_drain(proc.stdout))
        await slack.use_http(f"http://127.0.0.1:{port}/slack/events")
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        if draining is not None:
            await draining


async def _drain(stream: asyncio.StreamReader) -> None:
    """Keep reading what the bot prints, so a full pipe never blocks it; ends when it exits."""
    while await stream.read(65536):
        pass


async def test_a_page_in_flight_when_the_process_is_killed_is_posted_once(
    slack: LocalSlack, tmp_path: Path
) -> None:
    env = environment(slack, tmp_path)
    db = Database(env["DATABASE_URL"])
    await upgrade(db)  # what `switchboard db upgrade` does, without a third process start
    await db.dispose()
    async with process(slack, env) as first:
        ts = await slack.post("cara", "support", f"<@{slack.bot_user_id}> {PAGE}")
        card = await slack.wait_for_bot_message(
            "support", thread_ts=ts, within=30, predicate=asks_for_approval
        )
        held = slack.hold("chat.postMessage", "oncall")
        await slack.click("alice", "support", card["ts"], "approval_approve")
        await asyncio.wait_for(held.reached.wait(), 30)
        first.send_signal(signal.SIGKILL)  # Slack has the page; the bot never hears back
        await first.wait()
        held.release()
    async with process(slack, env):
        await slack.wait_for(
            lambda: [
                m for m in slack.thread("support", ts)
                if m.get("bot_id") and "after the approval decision" in str(m.get("blocks"))
            ] or None,
            within=60,
            what="the follow-up after the restart",
        )  # fmt: skip
    pages = [m for m in slack.history("oncall") if m.get("bot_id")]
    assert len(pages) == 1
    with contextlib.closing(sqlite3.connect(tmp_path / "bot.db")) as file:
        (incidents,) = file.execute("SELECT count(*) FROM incidents").fetchone()
        (status,) = file.execute("SELECT status FROM approvals").fetchone()
    assert (incidents, status) == (1, "executed")
