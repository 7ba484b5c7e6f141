"""A few hundred malformed requests against the real bot over HTTP: never a 5xx.

Unsigned or badly signed requests get 401 whatever they hold; signed ones that are broken get a
quiet 200 (a shape Slack does not send) or 400 (not even JSON or a form). The bot keeps working
afterwards, and nothing broken reached the inbox.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path

import aiohttp
from sqlmodel import select
from structlog.testing import capture_logs

from localslack import LocalSlack, signature
from storage.tables import InboxEvent
from tests.e2e.malformed import cases
from tests.helpers.harness import bot, settings_for, settled

TS = re.compile(r"[0-9]+\.[0-9]+")


async def test_no_malformed_request_gets_a_5xx(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)) as running:
        statuses: Counter[int] = Counter()
        wrong: list[str] = []
        all_cases = cases(slack.signing_secret, slack.bot_user_id)
        async with aiohttp.ClientSession() as http:
            for case in all_cases:
                async with http.post(
                    running.events_url, data=case.body, headers=case.headers
                ) as response:
                    statuses[response.status] += 1
                    expected = {200, 400} if case.signed else {401}
                    if response.status not in expected:
                        wrong.append(f"{case.name}: {response.status} {await response.text()}")
        print(f"{len(all_cases)} malformed requests: {dict(sorted(statuses.items()))}")
        assert len(all_cases) >= 250
        assert not wrong, "\n".join(wrong)
        assert not [s for s in statuses if s >= 500]
        await settled(running)
        # Still answering, and a broken event never became a turn.
        ts = await slack.post("bob", "support", f"<@{slack.bot_user_id}> explain invoice INV-1024")
        await slack.wait_for_bot_message("support", thread_ts=ts, within=20)
        async with running.board.store.db.read() as session:
            rows = (await session.exec(select(InboxEvent))).all()
        assert all(TS.fullmatch(r.message_ts or "") and r.channel for r in rows), rows
        assert running.board.metrics.malformed._value.get() > 100


async def test_a_signed_event_without_a_channel_is_logged_with_its_event_id(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0LOCAL",
            "event_id": "EvNOCHANNEL",
            "event": {"type": "app_mention", "user": "U0BOB", "text": "hi", "ts": "1.000100"},
        }
    )
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)) as running:
        with capture_logs() as logs:
            async with (
                aiohttp.ClientSession() as http,
                http.post(running.events_url, data=body, headers=signed_json(slack, body)) as got,
            ):
                assert got.status == 200
    [line] = [e for e in logs if e["event"] == "http.malformed"]
    assert line["event_id"] == "EvNOCHANNEL" and "channel" in line["problem"]
    assert await running.board.store.inbox.by_event_id("EvNOCHANNEL") is None


def signed_json(slack: LocalSlack, body: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(slack.signing_secret, stamp, body.encode()),
    }
