"""A Web API outage: how soon after Slack recovers every reply is out, and that each is out once.

    .venv/bin/python bench/slack_outage.py                  # 20 s of HTML 500s, 12 questions
    .venv/bin/python bench/slack_outage.py --mode reset --outage 20 --questions 24

The bot runs in this process with its default settings (posts paced at 1/s per channel, retry
delays doubling from 0.5 s to at most 8 s, a 60 s lease per post), on SQLite and the offline
model; localslack is the workspace, with Slack's rate limits on. The Web API (every method) is
broken with one of localslack's outage modes; during the outage's first seconds people ask
questions in threads of three channels and in three DMs; events still arrive (they do not go
through the Web API), the turns run, and the replies wait in the outbox. When the outage ends,
prints how long after it the first and the last reply appeared in Slack, how many replies are
missing, and how many were posted more than once (by the outbox id in each message's metadata).
Nothing is asserted; the target is every reply delivered exactly once within 15 s of recovery.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections import Counter
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from bot import logs
from bot.config_file import ApprovalsConfig, ApproverRule, FileConfig
from bot.runtime import running, serve_http
from bot.settings import EnvSettings, Settings
from localslack import LocalSlack, LocalSlackConfig
from localslack.outage import MODES

WHERE = [("support", None), ("billing", None), ("oncall", None)]
WHERE += [("D0BOB", "bob"), ("D0CARA", "cara"), ("D0ALICE", "alice")]
QUESTIONS = [
    "Why was invoice INV-1024 charged after we cancelled?",
    "SSO login fails with invalid_grant",
    "the dashboard is slow to load reports",
    "can you explain the line items on INV-1022?",
    "password reset email never arrives",
    "how do I export my data?",
]


def bot_replies(slack: LocalSlack) -> list[dict[str, Any]]:
    ws = slack.workspace
    return [
        ws.to_json(m)
        for m in ws.all_messages()
        if m.user == ws.app.bot_user_id and (m.metadata or {}).get("event_type")
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=[m for m in MODES if m != "hold"], default="html_500")
    parser.add_argument("--outage", type=float, default=20.0, help="seconds")
    parser.add_argument("--questions", type=int, default=12)
    args = parser.parse_args()
    logs.configure("ERROR", "console")
    with TemporaryDirectory() as folder:
        async with LocalSlack(LocalSlackConfig(ack_timeout=3.0)) as slack:
            env = EnvSettings(
                SLACK_BOT_TOKEN=slack.bot_token,
                SLACK_SIGNING_SECRET=slack.signing_secret,
                SLACK_API_URL=slack.api_url,
                DATABASE_URL=f"sqlite:///{Path(folder) / 'outage.db'}",
                SWITCHBOARD_DEMO_LEDGER=str(Path(folder) / "ledger.db"),
            )
            rules = ApprovalsConfig(default=ApproverRule(groups=["S0SUPLEADS"]))
            settings = Settings(env, FileConfig(approvals=rules), None)
            async with running(settings, upgrade_database=True) as board:
                runner, port = await serve_http(board, "127.0.0.1", 0)
                await slack.use_http(f"http://127.0.0.1:{port}/slack/events")
                await run(slack, board, args.mode, args.outage, args.questions)
                await runner.cleanup()


async def run(slack: LocalSlack, board: Any, mode: str, outage: float, questions: int) -> None:
    started = time.monotonic()
    slack.break_web_api(mode)  # type: ignore[arg-type]
    for n in range(questions):
        channel, person = WHERE[n % len(WHERE)]
        text = f"{QUESTIONS[n % len(QUESTIONS)]} (#{n})"
        if person is None:
            await slack.post("dev", channel, f"<@{slack.bot_user_id}> {text}")
        else:
            await slack.dm(person, text)
    await board.worker.wait_idle()
    queued = time.monotonic() - started
    await asyncio.sleep(max(0.0, outage - queued))  # the outage lasts `outage` seconds in all
    during = len(bot_replies(slack))
    spoiled = slack.outage_hits
    slack.mend_web_api()
    mended = time.monotonic()
    seen: dict[str, float] = {}

    def progress() -> bool:
        for reply in bot_replies(slack):
            seen.setdefault(str(reply["ts"]), time.monotonic() - mended)
        return len(seen) >= questions

    try:
        await slack.wait_for(progress, within=120, what="every reply")
    except Exception as exc:
        print(f"not every reply came within 120 s: {exc}")
    await board.sender.drain()
    ids = Counter(r["metadata"]["event_payload"]["outbox_id"] for r in bot_replies(slack))
    after = sorted(seen.values())
    print(
        f"{mode}: {outage:.0f} s outage ({spoiled} Web API calls failed), {questions} questions; "
        f"replies during the outage {during}"
    )
    if after:
        print(
            f"after recovery: first reply {after[0]:.2f} s, last reply {after[-1]:.2f} s, "
            f"delivered {len(after)}/{questions}, missing {questions - len(ids)}, "
            f"posted twice {sum(1 for c in ids.values() if c > 1)}"
        )


if __name__ == "__main__":
    asyncio.run(main())
