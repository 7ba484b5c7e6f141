"""The technical specialist over the demo runbooks and a local health server on a free port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web

from agents.agent import Agent
from agents.connectors.status import StatusChecker
from agents.demo import DEMO_KB
from agents.llm import LLM, LLMSettings
from agents.results import Turn
from agents.runner import Runner
from agents.specialists.technical import build_technical
from agents.specialists.technical.tools import (
    SearchArgs,
    StatusArgs,
    TechnicalTools,
    steps_of,
)
from agents.tool import ToolContext
from bot.doors import StoredKnowledge
from storage.knowledge import KnowledgeIndex

CTX = ToolContext(
    team_id="T1",
    channel="C1",
    thread_ts="100.1",
    user_id="U1",
    idempotency_key="k",
    agent="technical",
)


async def healthy(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def degraded(request: web.Request) -> web.Response:
    return web.json_response({"status": "degraded", "reason": "queue lag 12 min"}, status=503)


@pytest.fixture
async def health_url() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/ok", healthy)
    app.router.add_get("/degraded", degraded)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


@pytest.fixture
def knowledge() -> Iterator[StoredKnowledge]:
    with KnowledgeIndex(DEMO_KB) as index:
        yield StoredKnowledge(index)


@pytest.fixture
def status(health_url: str) -> StatusChecker:
    checks = {"auth": f"{health_url}/ok", "api": f"{health_url}/ok"}
    return StatusChecker({**checks, "webhooks": f"{health_url}/degraded"}, timeout=5)


@pytest.fixture
def agent(knowledge: StoredKnowledge, status: StatusChecker) -> Agent:
    return build_technical(knowledge, status)


def ask(text: str) -> Turn:
    return Turn(
        team_id="T1", channel="C1", thread_ts="100.1", user_id="U1", text=text, event_id="Ev1"
    )


def runner() -> Runner:
    return Runner(LLM(LLMSettings(retries=0, timeout=10)))


async def test_search_knowledge_returns_cited_sections(
    knowledge: StoredKnowledge, status: StatusChecker
) -> None:
    tools = TechnicalTools(knowledge, status)
    out = await tools.search_knowledge(SearchArgs(query="429 too many requests from the API"), CTX)
    best = out["hits"][0]
    assert out["good_match"] and best["file"] == "api-errors-and-rate-limits.md"
    assert best["citation"] == (
        "(runbook: api-errors-and-rate-limits.md › 429 Too Many Requests (rate limiting))"
    )
    assert best["has_steps"] and best["steps"][0].startswith("Honour `Retry-After`")
    nothing = await tools.search_knowledge(SearchArgs(query="my cat is hungry"), CTX)
    assert nothing["hits"] == [] and not nothing["good_match"]


async def test_check_status_one_all_and_unknown(
    knowledge: StoredKnowledge, status: StatusChecker
) -> None:
    tools = TechnicalTools(knowledge, status)
    one = await tools.check_status(StatusArgs(service="auth"), CTX)
    assert [(s["service"], s["up"], s["http_status"]) for s in one["services"]] == [
        ("auth", True, 200)
    ]
    every = await tools.check_status(StatusArgs(), CTX)
    assert [(s["service"], s["up"]) for s in every["services"]] == [
        ("api", True),
        ("auth", True),
        ("webhooks", False),
    ]
    unknown = await tools.check_status(StatusArgs(service="payroll"), CTX)
    assert unknown["unknown"] == ["payroll"] and unknown["configured"] == [
        "api",
        "auth",
        "webhooks",
    ]
    assert "api, auth, webhooks" in tools.tools()[1].description


def test_steps_of_lists_tables_and_prose() -> None:
    assert steps_of("Intro.\n\n1. First\n   continued\n2. Second") == (
        ["First continued", "Second"],
        True,
    )
    table = "| Code | Fix |\n|---|---|\n| `A-1` | Reset it |\n| `A-2` | Wait |"
    assert steps_of(table) == (["`A-1`: Reset it", "`A-2`: Wait"], True)
    code = "After the fix:\n\n```bash\nlsctl a --x   # does a\n# note\n```\n\nThen wait."
    assert steps_of(code) == (["After the fix:", "Run `lsctl a --x` (does a)", "Then wait."], True)
    assert steps_of("One thing. Another.\n```\n# not a heading\n```") == (
        ["One thing.", "Another."],
        False,
    )


async def test_sso_invalid_grant_answer_cites_the_runbook_and_auth_status(agent: Agent) -> None:
    result = await runner().run(agent, ask("SSO login fails with invalid_grant"), [])
    assert [c.name for c in result.tool_calls] == ["search_knowledge", "check_status"]
    assert "(runbook: sso-and-login.md › SSO (SAML and OIDC) › OIDC)" in result.text
    assert "`auth` is ✅ up (HTTP 200 OK in" in result.text
    assert "not in our runbooks" not in result.text  # the README's example is in the runbook
    assert "SSO-202 invalid_grant" in result.text and result.confident


async def test_failing_service_is_reported(agent: Agent) -> None:
    result = await runner().run(agent, ask("webhooks are not being delivered"), [])
    assert "`webhooks` is ⚠️ *failing* (HTTP 503 Service Unavailable" in result.text
    assert "queue lag 12 min" in result.text and "escalate" in result.text
    assert "(runbook: webhook-delivery.md ›" in result.text


async def test_no_good_runbook_flags_low_confidence_and_asks(agent: Agent) -> None:
    result = await runner().run(agent, ask("my cat is hungry"), [])
    assert not result.confident
    assert [c.name for c in result.tool_calls] == ["search_knowledge"]
    assert "won't guess" in result.text and "exact error message" in result.text


async def test_hands_refunds_to_billing_but_not_twice(agent: Agent) -> None:
    text = "please refund my last invoice"
    result = await runner().run(agent, ask(text), [], handoff_targets=["billing", "escalation"])
    assert result.handoff is not None and result.handoff.to == "billing"
    assert result.tool_calls == []
    handed = [{"role": "system", "content": "Handed over: billing thinks it is technical"}]
    kept = await runner().run(agent, ask(text), handed, handoff_targets=["billing"])
    assert kept.handoff is None and "(runbook: refunds-and-billing-faq.md ›" in kept.text


async def test_missing_knowledge_folder_is_a_tool_error_not_a_crash(
    tmp_path: Path, status: StatusChecker
) -> None:
    with KnowledgeIndex(tmp_path / "missing") as broken:
        agent = build_technical(StoredKnowledge(broken), status)
        result = await runner().run(agent, ask("SSO login fails"), [])
    [search, _] = result.tool_calls
    assert search.status == "error" and "does not exist" in (search.error or "")
    assert not result.confident and "won't guess" in result.text
