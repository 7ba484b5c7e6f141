"""The billing specialist on the demo ledger: each tool, then whole conversations offline.

The ledger is the real demo ledger in a SQLite file under tmp_path, so a refund that runs is a
refund the next lookup sees, and "exactly one refund" is counted in the ledger itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agents.agent import Agent
from agents.errors import ToolError
from agents.llm import LLM, LLMSettings
from agents.results import ApprovalRequest, RequestedCall, ToolOutcome, Turn
from agents.runner import Runner
from agents.specialists.billing import build_billing
from agents.specialists.billing.tools import (
    BillingTools,
    CreditArgs,
    CustomerArgs,
    FindCustomerArgs,
    InvoiceArgs,
    PaymentsArgs,
    RefundArgs,
)
from agents.tool import Risk, ToolContext
from bot.doors.demo_ledger import DemoLedger

HELIX = "cus_N7kQ2mLp4RtV"
CTX = ToolContext(
    team_id="T1",
    channel="C1",
    thread_ts="100.1",
    user_id="U1",
    idempotency_key="key-1",
    agent="billing",
)
DOUBLE_CHARGE_SUMMARY = (
    "Refund $199.00 to Helix Analytics for invoice INV-1018 "
    "(duplicate charge, same period and amount as INV-1017)"
)


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[DemoLedger]:
    connector = DemoLedger(tmp_path / "ledger.db")
    yield connector
    await connector.close()


@pytest.fixture
def tools(ledger: DemoLedger) -> BillingTools:
    return BillingTools(ledger, Decimal(100), Decimal(1000))


def runner() -> Runner:
    return Runner(LLM(LLMSettings(retries=0, timeout=10)))


def turn(text: str, event: str = "Ev1") -> Turn:
    return Turn(
        team_id="T1", channel="C1", thread_ts="100.1", user_id="U1", text=text, event_id=event
    )


def refund_args(**overrides: Any) -> RefundArgs:
    values: dict[str, Any] = {
        "invoice": "INV-1018",
        "amount_cents": 19900,
        "currency": "USD",
        "customer_name": "Helix Analytics",
        "reason": "duplicate charge",
    }
    return RefundArgs(**{**values, **overrides})


async def refunds_of(ledger: DemoLedger, customer: str, invoice: str) -> list[str]:
    movements = await ledger.movements(customer)
    return [m.id for m in movements if m.kind == "refund" and m.invoice_id == invoice]


# -- the tools on their own ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["priya.raman@helix-analytics.example", HELIX, "Helix Analytics", "helix"]
)
async def test_find_customer_by_email_id_or_name(tools: BillingTools, query: str) -> None:
    found = await tools.find_customer(FindCustomerArgs(query=query), CTX)
    assert (
        found["found"] and found["customer_id"] == HELIX and found["company"] == "Helix Analytics"
    )


async def test_find_customer_ambiguous_or_missing(tools: BillingTools) -> None:
    several = await tools.find_customer(FindCustomerArgs(query="studio"), CTX)
    assert not several["found"]
    assert {c["company"] for c in several["candidates"]} == {
        "Studio Brightline S.r.l.",
        "Mizuki Design Studio",
    }
    none = await tools.find_customer(FindCustomerArgs(query="nobody@nowhere.example"), CTX)
    assert none == {"found": False, "query": "nobody@nowhere.example", "candidates": []}


async def test_list_invoices_flags_the_double_charge(tools: BillingTools) -> None:
    listed = await tools.list_invoices(CustomerArgs(customer_id=HELIX), CTX)
    assert ["INV-1017", "INV-1018"] in listed["possible_duplicates"]
    assert listed["invoices"][0]["invoice"] == "INV-1037"  # newest first
    with pytest.raises(ToolError, match="cus_nope"):
        await tools.list_invoices(CustomerArgs(customer_id="cus_nope"), CTX)


async def test_get_invoice_and_payments(tools: BillingTools) -> None:
    invoice = await tools.get_invoice(InvoiceArgs(invoice="inv-1022"), CTX)
    assert (invoice["total"], invoice["refundable_cents"]) == ("$150.00", 15000)
    assert [line["amount"] for line in invoice["lines"]] == ["-$99.50", "$249.50"]
    payments = await tools.list_payments(PaymentsArgs(invoice="INV-1026"), CTX)
    assert [(p["outcome"], p["failure"]) for p in payments["payments"]] == [
        ("succeeded", None),
        ("failed", "The card has expired. (expired_card)"),
    ]
    with pytest.raises(ToolError, match="INV-9999"):
        await tools.get_invoice(InvoiceArgs(invoice="INV-9999"), CTX)
    with pytest.raises(ValueError, match="invoice or a customer_id"):
        PaymentsArgs()


async def test_explain_charge_after_cancellation(tools: BillingTools) -> None:
    out = await tools.explain_charge(InvoiceArgs(invoice="INV-1024"), CTX)
    assert out["suggested_refund_reason"] == "charge after cancellation"
    text = out["explanation"]
    assert "*Studio Brightline S.r.l.*" in text and "*€185.00*" in text
    assert "SEPA debit •••• 3310" in text and "*canceled*" in text


async def test_explain_charge_double_charge(tools: BillingTools) -> None:
    out = await tools.explain_charge(InvoiceArgs(invoice="INV-1018"), CTX)
    assert "double charge" in out["explanation"] and "INV-1017" in out["explanation"]
    first = await tools.explain_charge(InvoiceArgs(invoice="INV-1017"), CTX)
    assert first["suggested_refund_reason"] == ""  # the original is not the duplicate


def test_refund_risk_threshold_summary_and_approvers(ledger: DemoLedger) -> None:
    agent = build_billing(ledger, approval_above=Decimal(100), two_approvers_above=Decimal(1000))
    refund = agent.tool("issue_refund")
    assert refund is not None
    assert refund.risk_of(refund_args()) is Risk.HIGH
    assert refund.risk_of(refund_args(amount_cents=10000)) is Risk.LOW  # not above 100
    assert refund.describe(refund_args()) == (
        "Refund $199.00 to Helix Analytics for invoice INV-1018 (duplicate charge)"
    )
    assert refund.approvers_for(refund_args()) == 1
    assert refund.approvers_for(refund_args(amount_cents=271000)) == 2
    strict = build_billing(ledger).tool("issue_refund")
    assert strict is not None and strict.risk_of(refund_args(amount_cents=1)) is Risk.HIGH


async def test_refund_is_idempotent_and_checks_the_approved_words(
    tools: BillingTools, ledger: DemoLedger
) -> None:
    first = await tools.issue_refund(refund_args(), CTX)
    again = await tools.issue_refund(refund_args(), CTX)
    assert first == again and first["movement_status"] == "succeeded"
    assert await refunds_of(ledger, HELIX, "INV-1018") == [first["movement"]]
    other = ToolContext(
        team_id="T1", channel="C1", thread_ts="100.1", user_id="U1", idempotency_key="key-2"
    )
    with pytest.raises(ToolError, match="belongs to Helix Analytics, not ACME"):
        await tools.issue_refund(refund_args(invoice="INV-1017", customer_name="ACME"), other)
    with pytest.raises(ToolError, match="in USD, not EUR"):
        await tools.issue_refund(refund_args(invoice="INV-1017", currency="EUR"), other)
    with pytest.raises(ToolError, match=r"only \$0\.00"):
        await tools.issue_refund(refund_args(), other)  # nothing left on INV-1018


async def test_credit(tools: BillingTools) -> None:
    args = CreditArgs(
        customer_id="cus_B3vT9xWc1EyH",
        customer_name="Studio Brightline",
        amount_cents=5000,
        currency="EUR",
        reason="goodwill credit",
    )
    out = await tools.issue_credit(args, CTX)
    assert (out["kind"], out["amount"], out["customer"]) == (
        "credit",
        "€50.00",
        "Studio Brightline S.r.l.",
    )


# -- conversations through the runner on the offline model --------------------------------------


@pytest.fixture
def agent(ledger: DemoLedger) -> Agent:
    return build_billing(ledger, approval_above=Decimal(100))


async def test_explains_the_charge_after_cancellation(agent: Agent) -> None:
    result = await runner().run(agent, turn("Why was INV-1024 charged after they cancelled?"), [])
    assert [c.name for c in result.tool_calls] == ["explain_charge"]
    assert "€185.00" in result.text and "charge after cancellation" in result.text
    assert "refund INV-1024" in result.text and not result.approvals


async def test_double_charge_refund_waits_for_approval_then_runs_once(
    agent: Agent, ledger: DemoLedger
) -> None:
    text = "Helix says they were double charged, please refund INV-1018"
    first = await runner().run(agent, turn(text), [])
    [request] = first.approvals
    assert request.tool == "issue_refund" and request.summary == DOUBLE_CHARGE_SUMMARY
    assert "Nothing has been refunded yet" in first.text  # the supervisor states the approval
    assert await refunds_of(ledger, HELIX, "INV-1018") == []

    context = ToolContext(
        team_id="T1",
        channel="C1",
        thread_ts="100.1",
        user_id="U_LEAD",
        idempotency_key="apv_1",
        agent="billing",
    )
    outcome = await runner().execute(agent, request, context)
    repeat = await runner().execute(agent, request, context)
    assert outcome.status == "executed" and repeat == outcome
    [refund_id] = await refunds_of(ledger, HELIX, "INV-1018")
    invoice = await ledger.invoice("INV-1018")
    assert invoice is not None and invoice.amount_refunded_cents == 19900

    resumed = await runner().resume(agent, turn(text), [], request, outcome)
    assert resumed.text.startswith("✅ Done: refunded *$199.00* to Helix Analytics")
    assert refund_id in resumed.text and not resumed.approvals


@pytest.mark.parametrize(
    ("outcome", "words"),
    [
        (ToolOutcome(status="rejected", detail="not a duplicate"), "*rejected*: not a duplicate."),
        (ToolOutcome(status="expired"), "*expired* before anyone decided"),
        (
            ToolOutcome(status="failed", detail="Stripe is unavailable"),
            "*failed*: Stripe is unavailable.",
        ),
    ],
)
async def test_reports_an_undone_refund_honestly(
    agent: Agent, ledger: DemoLedger, outcome: ToolOutcome, words: str
) -> None:
    call = RequestedCall(
        tool="issue_refund",
        arguments=refund_args().model_dump(),
        summary="Refund",
        call_id="call_1",
    )
    request = ApprovalRequest(agent="billing", calls=(call,), rationale="")
    resumed = await runner().resume(agent, turn("refund INV-1018"), [], request, outcome)
    assert words in resumed.text and "Done" not in resumed.text
    assert await refunds_of(ledger, HELIX, "INV-1018") == []


async def test_refund_under_the_threshold_runs_at_once(agent: Agent, ledger: DemoLedger) -> None:
    result = await runner().run(agent, turn("Please refund $20 on INV-1022"), [])
    assert not result.approvals
    assert [(c.name, c.status) for c in result.tool_calls] == [
        ("explain_charge", "ok"),
        ("issue_refund", "ok"),
    ]
    assert result.text.startswith("✅ Done: refunded *$20.00* to Orbital Freight Inc.")
    assert len(await refunds_of(ledger, "cus_H5pZ8dKe2MqW", "INV-1022")) == 1


async def test_refund_larger_than_refundable_is_refused(agent: Agent) -> None:
    result = await runner().run(agent, turn("refund $500 on INV-1022"), [])
    assert "Only *$150.00*" in result.text and not result.approvals
    assert [c.name for c in result.tool_calls] == ["explain_charge"]


async def test_customer_by_name_lists_invoices_and_payment_failures(agent: Agent) -> None:
    text = "Fischer & Vogel say their card was declined, can you check their payments?"
    result = await runner().run(agent, turn(text), [])
    assert [c.name for c in result.tool_calls] == [
        "find_customer",
        "list_invoices",
        "list_payments",
    ]
    assert "*Fischer & Vogel Logistik GmbH*" in result.text
    assert "The card has expired. (expired_card)" in result.text


async def test_refund_without_an_invoice_asks_which(agent: Agent) -> None:
    result = await runner().run(agent, turn("Helix Analytics was charged twice, refund them"), [])
    assert "INV-1017 and INV-1018" in result.text and "*refund INV-1018*" in result.text
    assert not result.approvals


async def test_invoice_from_earlier_in_the_thread(agent: Agent) -> None:
    history = [
        {"role": "user", "content": "What is INV-1024?"},
        {"role": "assistant", "content": "It bills Studio Brightline €185.00."},
    ]
    result = await runner().run(agent, turn("ok, refund it please"), history)
    [request] = result.approvals
    assert request.summary == (
        "Refund €185.00 to Studio Brightline S.r.l. for invoice INV-1024 "
        "(charge after cancellation)"
    )


async def test_nothing_identifies_the_customer(agent: Agent) -> None:
    result = await runner().run(agent, turn("why is my bill so high?"), [])
    assert "invoice number" in result.text and "account e-mail" in result.text
    assert result.tool_calls == []


async def test_hands_off_a_technical_question_once(agent: Agent) -> None:
    text = "SSO login fails with invalid_grant"
    result = await runner().run(agent, turn(text), [], handoff_targets=["technical", "escalation"])
    assert result.handoff is not None and result.handoff.to == "technical"
    handed = [{"role": "system", "content": "Handed over: from technical"}]
    again = await runner().run(agent, turn(text), handed, handoff_targets=["technical"])
    assert again.handoff is None and "invoice number" in again.text


async def test_refund_it_after_a_suggestion_refunds_the_suggested_invoice(agent: Agent) -> None:
    listing = await runner().run(agent, turn("Helix Analytics was charged twice, refund them"), [])
    history = [
        {"role": "user", "content": "Helix Analytics was charged twice, refund them"},
        {"role": "assistant", "content": listing.text},
    ]
    result = await runner().run(agent, turn("yes, refund it", "Ev2"), history)
    [request] = result.approvals
    assert request.summary == DOUBLE_CHARGE_SUMMARY
