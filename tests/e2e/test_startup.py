"""A bot that is still loading takes in events: signed, recorded, acknowledged, answered later.

`started()` serves from the first second; the agents and the router load in the background.
Here the router's cache folder is empty, so loading includes training the classifier (seconds),
and the mention is sent at once: it must be acknowledged, written to the inbox, and answered
when the worker is attached, with `/readyz` saying 503 until turns can run.
"""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from bot.runtime import serve_http, started
from localslack import LocalSlack
from tests.helpers.harness import settings_for


async def test_an_event_sent_while_the_bot_loads_is_kept_and_answered(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    settings = settings_for(slack, sqlite_url, tmp_path).with_env(
        cache_dir=str(tmp_path / "empty-cache")
    )
    async with started(settings, upgrade_database=True, post_interval=0.0) as early:
        runner, port = await serve_http(early, "127.0.0.1", 0)
        try:
            await slack.use_http(f"http://127.0.0.1:{port}/slack/events")
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"http://127.0.0.1:{port}/readyz") as response,
            ):
                loading = (response.status, await response.json())
            text = f"<@{slack.bot_user_id}> Why was I charged on invoice INV-1024?"
            ts = await slack.post("bob", "support", text)
            [delivery] = await slack.wait_for_deliveries(
                lambda d: d.kind == "event" and d.payload["event"]["type"] == "app_mention",
                within=10,
            )
            await delivery.wait(10)
            assert delivery.state == "acked"
            assert await early.store.inbox.by_event_id(str(delivery.payload["event_id"]))
            reply = await slack.wait_for_bot_message("support", thread_ts=ts, within=60)
            assert "INV-1024" in json.dumps(reply["blocks"])
            board = await early.board()
            assert board.app is early.app
        finally:
            await runner.cleanup()
    if loading[0] == 503:  # the usual case: training takes seconds, the request took none
        assert loading[1]["turns"].startswith("starting")
    else:
        assert loading == (200, {"ok": True, "database": "ok", "slack": "ok", "turns": "ok"})
