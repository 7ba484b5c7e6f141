"""`/switchboard digest` through the real runtime and Bolt app, against localslack."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from bot.config_file import ApprovalsConfig, ApproverRule, DigestConfig, FileConfig
from localslack import LocalSlack
from storage.database import Database
from storage.store import Store
from tests.helpers.digests import digest_messages
from tests.helpers.harness import LEADS, bot, settings_for

NEW_YEAR = DigestConfig(name="daily", channel="C0SUPPORT", cron="0 9 1 1 *", window="24h")


async def test_slash_digest_posts_the_digest_now(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    file = FileConfig(
        approvals=ApprovalsConfig(default=ApproverRule(groups=[LEADS])), digests=[NEW_YEAR]
    )
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path, file=file)) as running:
        await slack.slash("alice", "support", "digest")
        answer = await slack.wait_for(
            lambda: [e for e in slack.ephemerals("alice", "support") if "Digest" in e["text"]],
            within=20,
            what="the command's answer",
        )
        assert "*daily* <http" in answer[0]["text"]
        [message] = digest_messages(slack)
        assert "Digest: daily" in json.dumps(message["blocks"])
        # The runtime's scheduler holds the lease and has the digest's next run stored.
        scheduler = running.board.scheduler
        assert scheduler.leading
        next_run = (await scheduler.next_runs())["daily"]
        assert next_run is not None and (next_run.month, next_run.day) == (1, 1)
        assert next_run > datetime.now(UTC)
        await slack.slash("alice", "support", "digest weekly")
        await slack.wait_for(
            lambda: any(
                "no digest named" in e["text"] for e in slack.ephemerals("alice", "support")
            ),
            within=10,
            what="the unknown digest answer",
        )
    after = Store.over(Database(sqlite_url))
    assert await after.leases.holder("scheduler") is None  # released on the way out
    await after.close()
