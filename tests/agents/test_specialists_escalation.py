"""The escalation specialist: thread summaries, pages and incidents only through approvals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from agents.agent import Agent
from agents.connectors.paging import PageResult, PagingError, Severity
from agents.llm import LLM, LLMSettings
from agents.results import ToolOutcome, Turn
from agents.runner import Runner
from agents.specialists.escalation import build_escalation
from agents.specialists.escalation.tools import (
    EscalationTools,
    PageArgs,
    SummarizeArgs,
)
from agents.tool import Risk, ToolContext
from bot.doors import casework
from storage.store import Store

OUTAGE = "The API is down for everyone since 09:10 UTC, page on-call"


@dataclass
class RecordingPager:
    """A `Pager` that remembers every page; ``fail`` makes it behave like a broken Slack.

    Like every pager, it pages once per dedup key (PagerDuty by its dedup_key, the Slack pager
    by its message tag): a second call with the same key returns the first page.
    """

    fail: bool = False
    pages: list[dict[str, object]] = field(default_factory=list)
    by_key: dict[str, PageResult] = field(default_factory=dict)

    async def page(
        self,
        summary: str,
        severity: Severity,
        source: str,
        dedup_key: str,
        details: Mapping[str, object] | None = None,
    ) -> PageResult:
        if self.fail:
            raise PagingError("Slack", "posting to #oncall failed: channel_not_found")
        if dedup_key in self.by_key:
            return self.by_key[dedup_key]
        self.pages.append(
            {"summary": summary, "severity": severity, "dedup_key": dedup_key, **(details or {})}
        )
        result = PageResult("slack", f"1700000000.{len(self.pages):06d}", "posted in #oncall")
        self.by_key[dedup_key] = result
        return result


def ask(text: str) -> Turn:
    return Turn(
        team_id="T1", channel="C1", thread_ts="100.1", user_id="U1", text=text, event_id="Ev1"
    )


def context(key: str) -> ToolContext:
    return ToolContext(
        team_id="T1",
        channel="C1",
        thread_ts="100.1",
        user_id="U_LEAD",
        idempotency_key=key,
        agent="escalation",
    )


def runner() -> Runner:
    return Runner(LLM(LLMSettings(retries=0, timeout=10)))


@pytest.fixture
def pager() -> RecordingPager:
    return RecordingPager()


@pytest.fixture
def agent(sqlite_store: Store, pager: RecordingPager) -> Agent:
    return build_escalation(
        *casework(sqlite_store), pager, oncall_channel="#oncall", oncall_usergroup="S0ONCALL"
    )


async def test_summarize_thread_reads_the_stored_thread(sqlite_store: Store) -> None:
    thread = await sqlite_store.memory.thread("T1", "C1", "100.1")
    assert thread.id is not None
    await sqlite_store.memory.append(thread.id, role="user", text="SSO is broken", user_id="U1")
    await sqlite_store.memory.append(
        thread.id,
        role="assistant",
        agent="technical",
        text="Check the IdP certificate.",
        tool_calls=[{"name": "search_knowledge", "status": "ok"}],
    )
    await sqlite_store.memory.append(thread.id, role="user", text="Still broken", user_id="U1")
    await sqlite_store.tickets.open(channel="C1", thread_ts="100.1", title="SSO", priority="high")
    tools = EscalationTools(*casework(sqlite_store), RecordingPager(), "#oncall", None)
    out = await tools.summarize_thread(SummarizeArgs(), context("k"))
    assert out["summary"].splitlines() == [
        "• <@U1> asked: “SSO is broken”",
        "• technical answered (tools: search_knowledge): “Check the IdP certificate.”",
        "• <@U1> followed up: “Still broken”",
    ]
    assert (out["messages"], out["agents"], out["tickets"]) == (
        3,
        ["technical"],
        ["#1 (high, open)"],
    )


async def test_page_runs_once_per_key(sqlite_store: Store, pager: RecordingPager) -> None:
    tools = EscalationTools(*casework(sqlite_store), pager, "#oncall", None)
    args = PageArgs(summary="API down", severity="SEV1", service="api")
    first = await tools.page_oncall(args, context("apv_1"))
    again = await tools.page_oncall(args, context("apv_1"))
    assert len(pager.pages) == 1 and again == first
    assert pager.pages[0]["severity"] == "critical" and pager.pages[0]["dedup_key"] == "apv_1"
    assert pager.pages[0]["summary"] == "SEV1: API down"


async def test_outage_asks_to_page_and_open_an_incident_but_does_neither(
    agent: Agent, pager: RecordingPager, sqlite_store: Store
) -> None:
    result = await runner().run(agent, ask(OUTAGE), [])
    [request] = result.approvals  # both calls of the step on one request: one card
    assert [(c.tool, c.arguments["severity"]) for c in request.calls] == [
        ("page_oncall", "SEV1"),
        ("open_incident", "SEV1"),
    ]
    page, incident = request.calls
    assert page.summary == f"Page on-call in #oncall (user group S0ONCALL) at SEV1 (api): {OUTAGE}"
    assert incident.summary == f"Open a SEV1 incident: {OUTAGE}"
    assert "paged" not in result.text and "is open" not in result.text
    assert pager.pages == [] and await sqlite_store.incidents.open_ones() == []
    page_tool = agent.tool("page_oncall")
    assert page_tool is not None and page_tool.risk_of(page_tool.parse(page.arguments)) is Risk.HIGH


async def test_approved_page_and_incident_run_once_and_are_reported(
    agent: Agent, pager: RecordingPager, sqlite_store: Store
) -> None:
    [request] = (await runner().run(agent, ask(OUTAGE), [])).approvals
    outcome = await runner().execute(agent, request, context("apv_1"))
    repeat = await runner().execute(agent, request, context("apv_1"))
    assert outcome.status == "executed" and repeat == outcome
    assert len(pager.pages) == 1 and pager.pages[0]["dedup_key"] == "apv_1"
    [row] = await sqlite_store.incidents.open_ones()
    assert (row.severity, row.channel, row.thread_ts) == ("SEV1", "C1", "100.1")
    told = await runner().resume(agent, ask(OUTAGE), [], request, outcome)
    assert told.text.splitlines() == [
        "📟 On-call has been paged at SEV1 through slack (posted in #oncall; reference "
        "`1700000000.000001`).",
        f"🚨 Incident *INC-{row.id}* at SEV1 is open: {OUTAGE}.",
    ]


async def test_failed_or_rejected_page_is_reported_honestly(sqlite_store: Store) -> None:
    broken = RecordingPager(fail=True)
    agent = build_escalation(*casework(sqlite_store), broken)
    [request] = (await runner().run(agent, ask(OUTAGE), [])).approvals
    outcome = await runner().execute(agent, request, context("apv_2"))
    assert outcome.status == "failed" and "channel_not_found" in outcome.detail
    page, incident = outcome.calls
    assert page.status == "failed" and incident.status == "executed"
    told = await runner().resume(agent, ask(OUTAGE), [], request, outcome)
    assert "*did not go through*" in told.text and "Call the on-call person directly" in told.text
    rejected = await runner().resume(
        agent, ask(OUTAGE), [], request, ToolOutcome(status="rejected", detail="false alarm")
    )
    assert rejected.text.splitlines() == [
        "❌ The page to on-call was *not* made: an approver rejected it: false alarm.",
        "❌ The incident was *not* made: an approver rejected it: false alarm.",
    ]


async def test_asking_for_a_manager_opens_a_handover_ticket(
    agent: Agent, sqlite_store: Store, pager: RecordingPager
) -> None:
    result = await runner().run(
        agent, ask("This is the third time. I want to talk to a manager."), []
    )
    assert not result.approvals and pager.pages == []
    [ticket] = await sqlite_store.tickets.for_thread("C1", "100.1")
    assert (ticket.category, ticket.priority, ticket.requester) == ("escalation", "high", "U1")
    assert f"ticket *#{ticket.id}*" in result.text and "A person will pick this up" in result.text
