"""Paging: PagerDuty's Events API v2 against a local server, and Slack through a fake notifier."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import pytest
from aiohttp import web

from agents.connectors.paging import (
    PagerDutyPager,
    PageResult,
    PagingError,
    SlackPager,
    slack_page_text,
)

ROUTING_KEY = "R0UT1NGK3Y0000000000000000000000"


class FakePagerDuty:
    """Answers POST /v2/enqueue like PagerDuty; ``reply`` sets the next status and body."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.content_types: list[str] = []
        self.reply: tuple[int, dict[str, Any] | str] | None = None
        self.hang = False
        self.never = asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v2/enqueue", self.enqueue)
        return app

    async def enqueue(self, request: web.Request) -> web.Response:
        self.content_types.append(request.content_type)
        event = await request.json()
        self.events.append(event)
        if self.hang:
            await self.never.wait()
        if self.reply is not None:
            status, body = self.reply
            if isinstance(body, str):
                return web.Response(status=status, text=body)
            return web.json_response(body, status=status)
        answer = {
            "status": "success",
            "message": "Event processed",
            "dedup_key": event["dedup_key"],
        }
        return web.json_response(answer, status=202)


@pytest.fixture
def pagerduty() -> FakePagerDuty:
    return FakePagerDuty()


@pytest.fixture
async def events_url(pagerduty: FakePagerDuty) -> AsyncIterator[str]:
    runner = web.AppRunner(pagerduty.app(), handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/v2/enqueue"
    await runner.cleanup()


@pytest.fixture
def refused_url() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v2/enqueue"


class RecordingNotifier:
    """A Notifier that records posts and answers with a made-up ts, or fails when told to."""

    def __init__(self, error: Exception | None = None) -> None:
        self.posts: list[tuple[str, str]] = []
        self.keys: dict[str, str] = {}
        self.error = error

    async def post(self, channel: str, text: str, key: str) -> str:
        self.posts.append((channel, text))
        if self.error is not None:
            raise self.error
        ts = f"1712500000.{len(self.posts):06d}"
        self.keys[key] = ts
        return ts

    async def find(self, channel: str, key: str) -> str | None:
        return self.keys.get(key)


# -- PagerDuty ----------------------------------------------------------------------------------


async def test_pagerduty_sends_an_events_v2_trigger(
    events_url: str, pagerduty: FakePagerDuty
) -> None:
    pager = PagerDutyPager(ROUTING_KEY, events_url)
    result = await pager.page(
        "API 5xx rate above 20%", "critical", "switchboard/escalation", "approval-42",
        {"incident": "INC-7", "reported_by": "U123"},
    )  # fmt: skip
    assert result == PageResult("pagerduty", "approval-42", "Event processed")
    assert pagerduty.events == [
        {
            "routing_key": ROUTING_KEY,
            "event_action": "trigger",
            "dedup_key": "approval-42",
            "payload": {
                "summary": "API 5xx rate above 20%",
                "source": "switchboard/escalation",
                "severity": "critical",
                "custom_details": {"incident": "INC-7", "reported_by": "U123"},
            },
        }
    ]
    assert pagerduty.content_types == ["application/json"]


async def test_pagerduty_rejection_is_explained(events_url: str, pagerduty: FakePagerDuty) -> None:
    pagerduty.reply = (400, {
        "status": "invalid event", "message": "Event object is invalid",
        "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"],
    })  # fmt: skip
    with pytest.raises(PagingError) as info:
        await PagerDutyPager("short", events_url).page("x", "error", "sb", "k")
    message = str(info.value)
    assert message == (
        "Could not page on-call through PagerDuty: PagerDuty rejected the event (HTTP 400): "
        "Event object is invalid: Length of 'routing_key' is incorrect (should be 32 "
        "characters) (check the routing key setting)"
    )
    assert "short" not in message.replace("should", "")  # the key itself is not echoed


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (429, "", "rate limiting events (HTTP 429); try again in a minute"),
        (502, "<html>bad gateway</html>", "answered HTTP 502; try again, or call the on-call"),
        (403, "forbidden", "rejected the event (HTTP 403): forbidden"),
    ],
)
async def test_pagerduty_other_failures(
    events_url: str, pagerduty: FakePagerDuty, status: int, body: str, expected: str
) -> None:
    pagerduty.reply = (status, body)
    with pytest.raises(PagingError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        await PagerDutyPager(ROUTING_KEY, events_url).page("x", "warning", "sb", "k")


async def test_pagerduty_unreachable_or_hung(
    refused_url: str, events_url: str, pagerduty: FakePagerDuty
) -> None:
    with pytest.raises(PagingError, match=r"could not reach .*call the on-call person"):
        await PagerDutyPager(ROUTING_KEY, refused_url).page("x", "info", "sb", "k")
    pagerduty.hang = True
    with pytest.raises(PagingError, match=r"no answer within 0\.2 s"):
        await PagerDutyPager(ROUTING_KEY, events_url, timeout=0.2).page("x", "info", "sb", "k")
    assert len(pagerduty.events) == 1  # it arrived; the answer is what never came


async def test_page_arguments_are_checked_before_sending(
    events_url: str, pagerduty: FakePagerDuty
) -> None:
    pager = PagerDutyPager(ROUTING_KEY, events_url)
    with pytest.raises(ValueError, match="severity must be one of critical, error, warning, info"):
        await pager.page("x", "sev1", "sb", "k")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="summary"):
        await pager.page("  ", "info", "sb", "k")
    with pytest.raises(ValueError, match="dedup_key"):
        await pager.page("x", "info", "sb", "k" * 256)
    assert pagerduty.events == []
    with pytest.raises(ValueError, match="routing key"):
        PagerDutyPager(" ")


# -- Slack --------------------------------------------------------------------------------------


async def test_slack_pager_posts_a_loud_message_mentioning_the_group() -> None:
    notifier = RecordingNotifier()
    pager = SlackPager(notifier, "C0ONCALL", usergroup="S0ONCALL")
    result = await pager.page(
        "Webhooks failing for <all> customers & retries piling up", "critical",
        "switchboard/escalation", "approval-42", {"incident": "INC-7", "queue": 1200},
    )  # fmt: skip
    assert result == PageResult("slack", "1712500000.000001", "posted in C0ONCALL")
    [(channel, text)] = notifier.posts
    assert channel == "C0ONCALL"
    assert text.splitlines() == [
        ":rotating_light: *CRITICAL page* <!subteam^S0ONCALL> Webhooks failing for &lt;all&gt; "
        "customers &amp; retries piling up",
        "Source: `switchboard/escalation` · Dedup key: `approval-42`",
        "• *incident:* INC-7",
        "• *queue:* 1200",
    ]


def test_slack_text_without_a_group_and_per_severity() -> None:
    assert slack_page_text("Disk 85% full", "warning", "sb", "k").splitlines()[0] == (
        ":warning: *WARNING page* Disk 85% full"
    )
    assert slack_page_text("FYI", "info", "sb", "k").startswith(":information_source: *INFO page*")
    assert slack_page_text("Errors", "error", "sb", "k").startswith(":red_circle: *ERROR page*")
    long = slack_page_text("x", "info", "sb", "k", {"log": "y" * 1000})
    assert long.splitlines()[-1] == "• *log:* " + "y" * 299 + "…"


async def test_slack_pager_failure_says_nobody_was_paged() -> None:
    notifier = RecordingNotifier(error=RuntimeError("channel_not_found"))
    with pytest.raises(
        PagingError, match="through Slack: posting to C0GONE failed: channel_not_found"
    ):
        await SlackPager(notifier, "C0GONE").page("x", "error", "sb", "k")


def test_slack_pager_wants_a_usergroup_id() -> None:
    with pytest.raises(ValueError, match="user group ID such as S0123ABCD"):
        SlackPager(RecordingNotifier(), "C1", usergroup="@oncall")


async def test_pagerduty_sends_odd_detail_values_as_text(
    events_url: str, pagerduty: FakePagerDuty
) -> None:
    # A tool may pass dates or other objects in the details; they go out as text, not refused.
    await PagerDutyPager(ROUTING_KEY, events_url).page(
        "x", "info", "sb", "k", {"since": date(2026, 4, 7), "count": 3}
    )
    assert pagerduty.events[0]["payload"]["custom_details"] == {"since": "2026-04-07", "count": 3}
