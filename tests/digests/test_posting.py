"""A digest posted to Slack (localslack): blocks through the outbox, the chart in its thread
through the three-step upload, and each period once."""

from __future__ import annotations

import json
from datetime import timedelta

import aiohttp

from bot.digests.scheduler import ManualClock
from localslack import LocalSlack
from storage.store import Store
from storage.tables import Incident
from tests.helpers.digest_scenario import END, START, at, seed
from tests.helpers.digests import digest_messages, digests_for


async def test_digest_posts_blocks_and_uploads_the_chart_into_its_thread(
    sqlite_store: Store, slack: LocalSlack
) -> None:
    seeder = await seed(sqlite_store)
    page_ts = await slack.post("dev", "support", "Payments API is timing out")
    await seeder.record(Incident, page_ts, at(1, 20), title="Payments API", severity="SEV2")
    async with digests_for(sqlite_store, slack, ManualClock(END)) as digests:
        sent = await digests.run_scheduled("daily", END)
    assert sent is not None and sent.status == "posted" and sent.period_start == START
    [message] = digest_messages(slack)
    assert message["ts"] == sent.ts
    text = json.dumps(message["blocks"])
    assert message["blocks"][0]["text"] == {"type": "plain_text", "text": "Digest: daily"}
    for shown in ("*Conversations*\\n7 (+5)", "*Resolved*\\n3 (+2)", "Incident #2 SEV1"):
        assert shown in text
    # An open incident whose thread Slack knows is listed with its permalink.
    link = f"{slack.url}/archives/C0SUPPORT/p{page_ts.replace('.', '')}"
    assert f"<{link}|Incident #3 SEV2: Payments API>" in text
    assert sent.permalink is not None and "/archives/C0SUPPORT/p" in sent.permalink
    # Step 1 reserves the file (with its alt text), step 2 sends the bytes, step 3 shares it.
    methods = [name for name, _ in slack.api_calls]
    assert methods.index("files.getUploadURLExternal") < methods.index(
        "files.completeUploadExternal"
    )
    _, chart = slack.thread("support", str(message["ts"]))
    [file] = chart["files"]
    assert file["mimetype"] == "image/png" and file["name"] == "daily-20260302T0900.png"
    assert file["alt_txt"].startswith("Stacked bar chart of new conversations per route per day")
    async with aiohttp.ClientSession() as http, http.get(file["url_private"]) as got:
        assert (await got.read()).startswith(b"\x89PNG\r\n\x1a\n")
    [run] = await sqlite_store.digests.runs("daily")
    assert (run.status, run.slack_ts, run.period_start) == ("posted", sent.ts, START)


async def test_a_period_is_posted_once_however_often_it_is_asked_for(
    sqlite_store: Store, slack: LocalSlack
) -> None:
    await seed(sqlite_store)
    clock = ManualClock(END - timedelta(seconds=20))  # a person asks in the minute before
    async with digests_for(sqlite_store, slack, clock) as digests:
        first = await digests.run_scheduled("daily", END)
        again = await digests.run_scheduled("daily", END)
        asked = await digests.send("daily")
    assert first is not None and first.status == "posted"
    assert again is not None and again.status == "already"
    assert asked.status == "already" and asked.period_start == START
    assert len(digest_messages(slack)) == 1
    assert len(await sqlite_store.digests.runs("daily")) == 1


async def test_an_empty_window_posts_a_short_quiet_digest_without_a_chart(
    sqlite_store: Store, slack: LocalSlack
) -> None:
    async with digests_for(sqlite_store, slack, ManualClock(END)) as digests:
        sent = await digests.send(None)
    assert sent.status == "posted"
    [message] = digest_messages(slack)
    assert "*All quiet.*" in json.dumps(message["blocks"])
    assert len(message["blocks"]) == 3
    assert slack.thread("support", str(message["ts"]))[1:] == []
    assert "files.getUploadURLExternal" not in [name for name, _ in slack.api_calls]
