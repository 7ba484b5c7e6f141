"""The Slack side of a streamed reply, on localslack: pacing, its end, and Slack failing mid-way.

`SlackStream` is driven as the supervisor drives it (status words, then vetted text), with the
real outbox on SQLite and the real sender for what it hands over.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.metrics import Metrics
from bot.slack.client import GuardedWebClient
from bot.slack.outbox import Sender
from bot.slack.status import ThreadStatus
from bot.slack.stream import SlackStream
from localslack import LocalSlack
from router.decision import RouteChoice, RouteDecision
from router.turn import Reply, Turn
from storage.outbox import POSTED, Outgoing
from storage.store import Store

FOOTER = {"type": "context", "elements": [{"type": "mrkdwn", "text": "Answered by *Billing*"}]}


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    async with LocalSlack() as workspace:
        yield workspace


async def started(slack: LocalSlack, sqlite_store: Store) -> tuple[SlackStream, Turn]:
    ts = await slack.post("bob", "support", "Why was INV-1024 charged?")
    turn = Turn(
        team_id=slack.workspace.team_id,
        channel="C0SUPPORT",
        thread_ts=ts,
        user_id="U0BOB",
        text="?",
        ts=ts,
        event_id="Ev1",
    )
    client = GuardedWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[])
    stream = SlackStream(
        client, sqlite_store.outbox, turn, "turn:Ev1:0", ThreadStatus(client, turn), every=0.2
    )
    return stream, turn


def reply_of(text: str, streamed: str) -> Reply:
    return Reply(
        text=text,
        agent="billing",
        parts=[],
        decision=RouteDecision(routes=(RouteChoice("billing", 1.0),), source="rule", reason=""),
        streamed=streamed,
    )


def rendered(text: str) -> list[Outgoing]:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    return [
        Outgoing(
            dedupe_key="turn:Ev1:0",
            channel="C0SUPPORT",
            text=text,
            blocks=[section, FOOTER],
            thread_ts=None,
        )
    ]


async def test_text_is_buffered_between_appends_and_the_end_adds_the_rest(
    slack: LocalSlack, sqlite_store: Store
) -> None:
    stream, turn = await started(slack, sqlite_store)
    await stream.text("Invoice INV-1024 was charged once. ")
    await slack.wait_for(lambda: slack.thread("support", turn.ts)[1:], what="the stream")
    await stream.text("It covers March. ")
    await stream.text("Nothing is <!channel> wrong.")  # a mention a model wrote: disarmed
    whole = "Invoice INV-1024 was charged once. It covers March. Nothing is <!channel> wrong."
    await slack.wait_for(
        lambda: [n for n, _ in slack.api_calls].count("chat.appendStream") == 1, what="an append"
    )
    done = await stream.finish(
        reply_of(f"{whole}\n\n⏳ Waiting for approval.", whole), rendered(whole), []
    )
    assert done
    appends = [a for n, a in slack.api_calls if n == "chat.appendStream"]
    assert [a["markdown_text"] for a in appends] == [
        "It covers March. Nothing is &lt;!channel&gt; wrong."
    ], "two chunks written within one interval went out in one append"
    [message] = slack.thread("support", turn.ts)[1:]
    assert message["text"].endswith("wrong.\n\n⏳ Waiting for approval.")
    assert message["blocks"][-1]["type"] == "context"
    row = await sqlite_store.outbox.by_key("turn:Ev1:0")
    assert row is not None and row.status == POSTED and row.slack_ts == message["ts"]
    assert message["metadata"]["event_payload"]["outbox_id"] == row.id


async def test_slack_failing_mid_stream_ends_as_one_replaced_message(
    slack: LocalSlack, sqlite_store: Store
) -> None:
    stream, turn = await started(slack, sqlite_store)
    await stream.text("First sentence. ")
    await slack.wait_for(lambda: slack.thread("support", turn.ts)[1:], what="the stream")
    slack.break_web_api("reset", ["chat.appendStream"])
    await stream.text("Second sentence.")
    await slack.wait_for(lambda: slack.outage_hits, what="a failed append")
    slack.mend_web_api()
    whole = "First sentence. Second sentence."
    assert await stream.finish(reply_of(whole, whole), rendered(whole), [])
    sender = Sender(sqlite_store, stream.client, Metrics.create(), pace=0.0)
    await sender.drain()
    [message] = slack.thread("support", turn.ts)[1:]
    assert message["text"] == whole and message["blocks"][-1] == {
        **FOOTER,
        "block_id": message["blocks"][-1]["block_id"],
    }
    assert message["metadata"]["event_type"] == "switchboard_outbox"
