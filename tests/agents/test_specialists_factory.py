"""The factory: four specialists with their own tools, settings validated, models configurable.

The scripted-model tests stand in for a real LLM: whatever a model asks for, the runner only
runs the specialist's own tools, and the refund threshold decides the risk, not the model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from pathlib import Path

import pytest

from agents.connectors.paging import PageResult, Severity
from agents.demo import DEMO_KB
from agents.llm import LLM, LLMSettings
from agents.offline import OfflineStep
from agents.results import Turn
from agents.runner import Runner
from agents.specialists import SpecialistConfig, SpecialistDeps, build_specialists
from agents.testing import ScriptedModel
from bot.doors import StoredKnowledge, default_deps
from bot.doors.demo_ledger import DemoLedger
from storage.store import Store


class RecordingPager:
    def __init__(self) -> None:
        self.pages: list[str] = []

    async def page(
        self,
        summary: str,
        severity: Severity,
        source: str,
        dedup_key: str,
        details: Mapping[str, object] | None = None,
    ) -> PageResult:
        self.pages.append(summary)
        return PageResult("test", dedup_key, "recorded")


@pytest.fixture
async def deps(sqlite_store: Store, tmp_path: Path) -> AsyncIterator[SpecialistDeps]:
    built = default_deps(
        sqlite_store,
        pager=RecordingPager(),
        ledger_path=tmp_path / "ledger.db",
        health_checks={"api": "http://127.0.0.1:9/healthz"},
    )
    yield built
    assert isinstance(built.knowledge, StoredKnowledge) and isinstance(built.billing, DemoLedger)
    built.knowledge.index.close()
    await built.billing.close()


def ask(text: str) -> Turn:
    return Turn(
        team_id="T1", channel="C1", thread_ts="100.1", user_id="U1", text=text, event_id="Ev1"
    )


def test_four_specialists_each_with_their_own_tools(deps: SpecialistDeps) -> None:
    agents = build_specialists(deps, SpecialistConfig())
    assert {name: [t.name for t in agent.tools] for name, agent in agents.items()} == {
        "triage": ["classify_request", "open_ticket"],
        "billing": [
            "find_customer",
            "list_invoices",
            "get_invoice",
            "list_payments",
            "explain_charge",
            "issue_refund",
            "issue_credit",
        ],
        "technical": ["search_knowledge", "check_status"],
        "escalation": [
            "summarize_thread",
            "page_oncall",
            "open_incident",
            "open_handover_ticket",
        ],
    }
    for name, agent in agents.items():
        assert (
            agent.name == name and agent.model is None and agent.active_model == f"offline/{name}"
        )
        assert agent.description and "approval" in agent.instructions
        for tool in agent.tools:
            properties = tool.schema()["function"]["parameters"].get("properties", {})
            assert all(p.get("description") for p in properties.values()), tool.name


def test_default_deps_index_the_demo_runbooks(deps: SpecialistDeps) -> None:
    assert isinstance(deps.knowledge, StoredKnowledge)
    index = deps.knowledge.index
    assert index.root == DEMO_KB and index.section_count() > 50
    assert deps.status.services == ["api"]


def test_config_is_validated_and_converted() -> None:
    config = SpecialistConfig(
        models={"billing": "openai/gpt-4o-mini"},
        refund_approval_above=100.5,
        two_approvers_above=1000,
    )
    assert config.approval_above == Decimal("100.5") and config.two_approvers == Decimal(1000)
    assert config.model("billing") == "openai/gpt-4o-mini" and config.model("triage") is None
    with pytest.raises(ValueError, match="no specialist named refunds"):
        SpecialistConfig(models={"refunds": "x"})
    with pytest.raises(ValueError, match="refund_approval_above must be 0 or more"):
        SpecialistConfig(refund_approval_above=-1)


async def test_thresholds_reach_the_billing_tools(deps: SpecialistDeps) -> None:
    config = SpecialistConfig(refund_approval_above=100, two_approvers_above=1000)
    refund = build_specialists(deps, config)["billing"].tool("issue_refund")
    assert refund is not None
    small = refund.parse(
        {
            "invoice": "INV-1033",
            "amount_cents": 9900,
            "currency": "USD",
            "customer_name": "Pinecrest Labs",
            "reason": "annual plan within 14 days",
        }
    )
    large = small.model_copy(update={"amount_cents": 271000})
    assert (refund.risk_of(small), refund.risk_of(large)) == ("low", "high")
    assert [refund.approvers_for(a) for a in (small, large)] == [1, 2]


async def test_an_llm_driven_billing_agent_cannot_page_oncall(deps: SpecialistDeps) -> None:
    script = ScriptedModel(
        "spec-billing-pages",
        [
            OfflineStep(
                tool_calls=[("page_oncall", {"summary": "refund now", "severity": "SEV1"})]
            ),
            OfflineStep(text="I can't page anyone."),
        ],
    )
    config = SpecialistConfig(models={"billing": script.model})
    billing = build_specialists(deps, config)["billing"]
    result = await Runner(LLM(LLMSettings(retries=0))).run(billing, ask("page on-call!"), [])
    script.assert_done()
    assert [(c.name, c.status) for c in result.tool_calls] == [("page_oncall", "unknown_tool")]
    assert result.approvals == [] and result.text == "I can't page anyone."
    pager = deps.pager
    assert isinstance(pager, RecordingPager) and pager.pages == []


async def test_an_llm_cannot_talk_its_way_past_the_refund_threshold(
    deps: SpecialistDeps,
) -> None:
    refund = {
        "invoice": "INV-1018",
        "amount_cents": 19900,
        "currency": "USD",
        "customer_name": "Helix Analytics",
        "reason": "the customer says a manager approved it already",
    }
    script = ScriptedModel(
        "spec-billing-refund",
        [
            OfflineStep(tool_calls=[("issue_refund", refund)]),
            OfflineStep(text="Asked for approval."),
        ],
    )
    config = SpecialistConfig(models={"billing": script.model}, refund_approval_above=100)
    billing = build_specialists(deps, config)["billing"]
    result = await Runner(LLM(LLMSettings(retries=0))).run(billing, ask("refund INV-1018"), [])
    script.assert_done()
    [request] = result.approvals
    assert request.summary.startswith("Refund $199.00 to Helix Analytics for invoice INV-1018")
    ledger = deps.billing
    assert isinstance(ledger, DemoLedger)
    invoice = await ledger.invoice("INV-1018")
    assert invoice is not None and invoice.amount_refunded_cents == 0
