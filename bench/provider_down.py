"""Every turn answered while the model provider is down: seconds from message to reply.

    .venv/bin/python bench/provider_down.py                 # 401, hang, refused, 500, 429
    .venv/bin/python bench/provider_down.py --only hang --waves 3

The bot runs in this process with its default settings (`[models]`: 15 s per call, 15 s of
failures per turn, 2 retries, breaker after 5 failures) and `SWITCHBOARD_MODEL=openai/gpt-4o-mini`;
litellm talks to a local OpenAI-protocol server (`tests/helpers/provider.py`) that refuses the key,
hangs, answers HTML 500s or 429s, or to a port where nothing listens. localslack is the
workspace. Each wave asks six questions at once, each in its own conversation (three channels,
three DMs), and waits for every answer; waves follow one another, so the first shows what a
turn costs before the breaker opens and the later ones after. Prints per wave the slowest and
median seconds from the question being posted to the answer in Slack, and whether every answer
carries the offline model's notice. Nothing is asserted; the target is every turn within 20 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from bot import logs
from bot.config_file import ApprovalsConfig, ApproverRule, FileConfig
from bot.runtime import running, serve_http
from bot.settings import EnvSettings, Settings
from localslack import LocalSlack, LocalSlackConfig
from router.supervisor import DEGRADED_NOTE
from tests.helpers.provider import fake_provider, refused_url

BEHAVIOURS = ("401", "hang", "refused", "500", "429", "ok")
WHERE = [("support", None), ("billing", None), ("oncall", None), ("D0BOB", "bob")]
WHERE += [("D0CARA", "cara"), ("D0ALICE", "alice")]
QUESTIONS = [
    "Why was invoice INV-1024 charged after we cancelled?",
    "SSO login fails with invalid_grant",
    "the dashboard is slow to load reports",
    "can you explain the line items on INV-1022?",
    "password reset email never arrives",
    "how do I export my data?",
]


async def ask(slack: LocalSlack, channel: str, person: str | None, text: str) -> tuple[float, str]:
    started = time.monotonic()
    if person is None:
        ts = await slack.post("dev", channel, f"<@{slack.bot_user_id}> {text}")
        reply = await slack.wait_for_bot_message(channel, thread_ts=ts, within=120)
    else:
        ts = await slack.dm(person, text)
        reply = await slack.wait_for_bot_message(channel, after_ts=ts, within=120)
    return time.monotonic() - started, str(reply.get("text"))


async def one(behaviour: str, waves: int, folder: Path) -> None:
    async with LocalSlack(LocalSlackConfig(ack_timeout=3.0)) as slack, fake_provider() as provider:
        if behaviour == "refused":
            os.environ["OPENAI_API_BASE"] = refused_url()
        else:
            os.environ["OPENAI_API_BASE"] = provider.url
            provider.default, provider.retry_after = behaviour, "1"  # type: ignore[assignment]
        os.environ["OPENAI_API_KEY"] = "sk-bench-not-a-real-key"
        env = EnvSettings(
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_SIGNING_SECRET=slack.signing_secret,
            SLACK_API_URL=slack.api_url,
            DATABASE_URL=f"sqlite:///{folder / f'{behaviour}.db'}",
            SWITCHBOARD_DEMO_LEDGER=str(folder / "ledger.db"),
            SWITCHBOARD_MODEL="openai/gpt-4o-mini",
        )
        rules = ApprovalsConfig(default=ApproverRule(groups=["S0SUPLEADS"]))
        settings = Settings(env, FileConfig(approvals=rules), None)
        async with running(settings, upgrade_database=True) as board:
            runner, port = await serve_http(board, "127.0.0.1", 0)
            await slack.use_http(f"http://127.0.0.1:{port}/slack/events")
            for wave in range(1, waves + 1):
                results = await asyncio.gather(
                    *(
                        ask(slack, channel, person, f"{question} (wave {wave})")
                        for (channel, person), question in zip(WHERE, QUESTIONS, strict=True)
                    )
                )
                seconds = [s for s, _ in results]
                noticed = sum(DEGRADED_NOTE.strip("_") in text for _, text in results)
                print(
                    f"{behaviour:>8}  wave {wave}: {len(results)} turns, slowest "
                    f"{max(seconds):5.2f} s, median {statistics.median(seconds):5.2f} s, "
                    f"with the offline notice {noticed}/{len(results)}, "
                    f"provider asked {provider.count()} times so far"
                )
            await runner.cleanup()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=BEHAVIOURS)
    parser.add_argument("--waves", type=int, default=2)
    args = parser.parse_args()
    logs.configure("ERROR", "console")
    with TemporaryDirectory() as folder:
        for behaviour in [args.only] if args.only else BEHAVIOURS:
            await one(behaviour, args.waves, Path(folder))


if __name__ == "__main__":
    asyncio.run(main())
