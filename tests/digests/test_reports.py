"""Every digest figure against hand-worked data, on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.digests.service import day_starts
from storage.figures import AgentUsage, ApprovalFigures, Conversations, word_counts
from storage.store import Store
from tests.helpers.digest_scenario import END, START, at, seed


async def test_every_figure_of_the_window(store: Store) -> None:
    await seed(store)
    now = await store.reports.figures(START, END)
    # Conversations: A, B, C, D, E, G, H (F has no user message in the window).
    # First replies (first message in the window is the user's, and answered):
    # A 30 s, B 120 s, C 600 s, D 60 s, H 45 s; E opens with a reply, G is unanswered.
    assert now.conversations == Conversations(
        total=7,
        by_route={"technical": 3, "billing": 2, "escalation": 1, "triage": 1},
        by_specialist={"billing": 2, "technical": 2, "escalation": 1, "triage": 1},
        resolved=3,  # A, E, H (B and G wait for the bot, C escalated, D waits on approval)
        escalated=1,
        waiting_approval=1,
        first_reply_p50=60.0,
        first_reply_p95=600.0,
    )
    # Requested: A, B, D, E's; decided: A's executed (600 s), B's rejected (1800 s), E's
    # expired, F's approved (asked the day before: 86400 s). Median of 600, 1800, 86400.
    assert now.approvals == ApprovalFigures(
        requested=4, approved=2, rejected=1, expired=1, median_decision_seconds=1800.0
    )
    assert now.usage == [
        AgentUsage(
            agent="escalation", replies=1, prompt_tokens=300, completion_tokens=80, cost_usd=0.05
        ),
        AgentUsage(
            agent="technical", replies=2, prompt_tokens=320, completion_tokens=80, cost_usd=0.032
        ),
        AgentUsage(
            agent="billing", replies=3, prompt_tokens=260, completion_tokens=55, cost_usd=0.026
        ),
        AgentUsage(
            agent="triage", replies=2, prompt_tokens=90, completion_tokens=20, cost_usd=0.009
        ),
    ]
    assert (now.incidents_opened, now.escalations_opened) == (1, 1)
    # Opening messages of A, B, C, D, G, H: "refund" in two of six.
    assert now.topics.sampled == 6
    assert now.topics.top(3) == [("refund", 2 / 6), ("api", 1 / 6), ("checkout", 1 / 6)]
    assert "u0bob" not in now.topics.counts and "please" not in now.topics.counts


async def test_every_figure_of_the_previous_window(store: Store) -> None:
    await seed(store)
    before = await store.reports.figures(START - timedelta(hours=24), START)
    assert before.conversations == Conversations(
        total=2,
        by_route={"billing": 1, "triage": 1},
        by_specialist={"triage": 1},
        resolved=1,
        escalated=0,
        waiting_approval=0,  # F's approval was pending then, but F had no conversation
        first_reply_p50=300.0,
        first_reply_p95=300.0,
    )
    assert before.approvals == ApprovalFigures(
        requested=2, approved=0, rejected=1, expired=0, median_decision_seconds=600.0
    )
    assert before.usage == [
        AgentUsage(
            agent="triage", replies=1, prompt_tokens=60, completion_tokens=10, cost_usd=0.006
        )
    ]
    assert (before.incidents_opened, before.escalations_opened) == (1, 0)
    assert before.topics.share("refund") == 0 and before.topics.share("invoice") == 0.5


async def test_open_items_and_new_conversations_per_day(store: Store) -> None:
    await seed(store)
    items, total = await store.reports.open_items()
    assert total == 2
    assert [(i.kind, i.title, i.thread_ts) for i in items] == [
        ("incident", "Checkout down", "C"),
        ("escalation", "Checkout down", "C"),
    ]
    zone = ZoneInfo("Europe/Berlin")
    days = day_starts(END - timedelta(days=7), END, zone)
    assert [d.astimezone(zone).day for d in days] == [23, 24, 25, 26, 27, 28, 1, 2]
    daily = await store.reports.daily_routes(days, END)
    assert daily.counts == {
        "billing": [0, 0, 0, 0, 0, 1, 2, 0],
        "escalation": [0, 0, 0, 0, 0, 0, 1, 0],
        "technical": [0, 0, 0, 0, 0, 0, 3, 0],
        "triage": [0, 0, 0, 0, 0, 1, 0, 0],
    }


async def test_an_empty_window_is_quiet_not_an_error(store: Store) -> None:
    figures = await store.reports.figures(START, END)
    assert figures.empty
    assert figures.conversations == Conversations()
    assert figures.approvals == ApprovalFigures()
    assert figures.topics.top() == []
    assert await store.reports.open_items() == ([], 0)


def test_day_starts_follow_daylight_saving_time() -> None:
    zone = ZoneInfo("Europe/Berlin")  # clocks go forward on 29 March 2026
    days = day_starts(at(1, 9).replace(month=3, day=28), at(1, 9).replace(month=3, day=31), zone)
    local = [d.astimezone(zone) for d in days]
    assert [(d.day, d.hour) for d in local] == [(28, 0), (29, 0), (30, 0), (31, 0)]
    lengths = [b - a for a, b in itertools.pairwise(days)]
    assert lengths == [timedelta(hours=24), timedelta(hours=23), timedelta(hours=24)]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Refund for <@U0BOB>, please!", {"refund"}),
        ("Can't log in: SSO error on https://example.com", {"log", "sso", "error"}),
        ("refund refund REFUND", {"refund"}),
    ],
)
def test_topic_words_leave_out_stop_words_mentions_and_links(text: str, words: set[str]) -> None:
    assert set(word_counts([text])) == words
