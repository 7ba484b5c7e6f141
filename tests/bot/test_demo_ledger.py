"""The demo ledger connector: the billing interface over the packaged ledger.json, in SQLite.

These tests read the demo's own stories (the double charge, the expired card, the proration)
through the connector, because that is what the billing agent will say in the demo.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from agents.connectors.billing import (
    AmbiguousCustomerError,
    IdempotencyConflictError,
    InvalidAmountError,
    NotFound,
    NotFoundError,
    RefundTooLargeError,
    format_money,
    payment_method_label,
)
from bot.doors.demo_ledger import DemoLedger

HELIX = "cus_N7kQ2mLp4RtV"
NOW = datetime(2026, 4, 7, 15, 30, tzinfo=UTC)


@pytest.fixture
async def ledger() -> AsyncIterator[DemoLedger]:
    connector = DemoLedger(":memory:", clock=lambda: NOW)
    yield connector
    await connector.close()


@pytest.mark.parametrize(
    ("cents", "currency", "text"),
    [
        (12000, "USD", "$120.00"),
        (18500, "eur", "€185.00"),
        (499000, "USD", "$4,990.00"),
        (-2500, "EUR", "-€25.00"),
        (5, "USD", "$0.05"),
        (1500, "JPY", "¥1,500"),
        (123456, "CHF", "1,234.56 CHF"),
    ],
)
def test_format_money(cents: int, currency: str, text: str) -> None:
    assert format_money(cents, currency) == text


def test_payment_method_label() -> None:
    assert payment_method_label("card", "visa", "4242") == "visa •••• 4242"
    assert payment_method_label("sepa_debit", None, "3310") == "SEPA debit •••• 3310"
    assert payment_method_label("paypal", None, None) == "paypal"


def test_short_error_names_are_the_same_classes() -> None:
    assert NotFound is NotFoundError


async def test_find_customer_by_id_email_company_or_name(ledger: DemoLedger) -> None:
    for query in [HELIX, "PRIYA.RAMAN@helix-analytics.example", "helix analytics", "priya raman"]:
        customer = await ledger.find_customer(query)
        assert customer is not None and customer.id == HELIX, query
    customer = await ledger.find_customer("helix")
    assert customer is not None
    assert (customer.company, customer.plan, customer.currency) == (
        "Helix Analytics",
        "team",
        "USD",
    )
    assert await ledger.find_customer("Nobody GmbH") is None
    assert await ledger.find_customer(HELIX.lower()) is not None


async def test_find_customer_refuses_to_guess(ledger: DemoLedger) -> None:
    with pytest.raises(AmbiguousCustomerError) as info:
        await ledger.find_customer("studio")
    assert {c.company for c in info.value.candidates} == {
        "Studio Brightline S.r.l.", "Mizuki Design Studio",
    }  # fmt: skip
    assert "Say which" in str(info.value)


async def test_invoice_lines_and_period(ledger: DemoLedger) -> None:
    invoice = await ledger.invoice("INV-1022")  # the prorated upgrade
    assert invoice is not None
    assert [line.amount_cents for line in invoice.lines] == [-9950, 24950]
    assert sum(amount for _, amount in invoice.lines) == invoice.amount_cents == 15000
    assert invoice.number == "INV-1022" and invoice.status == "paid"
    assert isinstance(invoice.period.start, date) and invoice.period.start < invoice.period.end
    assert invoice.refundable_cents == 15000
    refunded = await ledger.invoice("INV-1007")  # money-back guarantee, refunded in the seed
    assert refunded is not None and refunded.status == "refunded" and refunded.refundable_cents == 0
    assert await ledger.invoice("INV-9999") is None


async def test_invoices_of_a_customer_newest_first(ledger: DemoLedger) -> None:
    invoices = await ledger.invoices(HELIX)
    assert {"INV-1017", "INV-1018"} <= {i.id for i in invoices}  # the double charge
    assert [i.issued for i in invoices] == sorted((i.issued for i in invoices), reverse=True)
    with pytest.raises(NotFoundError, match="cus_nobody"):
        await ledger.invoices("cus_nobody")


async def test_payments_explain_a_failed_card(ledger: DemoLedger) -> None:
    attempts = await ledger.payments(invoice_id="INV-1026")
    assert [p.status for p in attempts] == ["succeeded", "failed"]  # newest first
    failed = attempts[1]
    assert failed.failure_reason == "The card has expired. (expired_card)"
    assert failed.method == "visa •••• 0341"
    assert failed.created.tzinfo is not None
    sepa = await ledger.payments(customer_id="cus_B3vT9xWc1EyH")
    assert any(p.method.startswith("SEPA debit ••••") for p in sepa)
    with pytest.raises(NotFoundError):
        await ledger.payments(invoice_id="INV-9999")


async def test_refund_the_double_charge_once(ledger: DemoLedger) -> None:
    refund = await ledger.refund("INV-1018", 19900, "duplicate subscription", "approval-1")
    assert (refund.kind, refund.invoice_id, refund.customer_id) == ("refund", "INV-1018", HELIX)
    assert (refund.amount_cents, refund.currency, refund.created) == (19900, "USD", NOW)
    assert refund.describe() == f"Refund {refund.id} of $199.00 on INV-1018 (succeeded)"
    assert await ledger.refund("INV-1018", 19900, "duplicate subscription", "approval-1") == refund
    assert await ledger.movement_for("approval-1") == refund
    invoice = await ledger.invoice("INV-1018")
    assert invoice is not None and invoice.status == "refunded" and invoice.refundable_cents == 0
    [payment] = await ledger.payments(invoice_id="INV-1018")
    assert payment.status == "refunded" and payment.amount_refunded_cents == 19900


async def test_concurrent_retries_of_one_approval_refund_once(ledger: DemoLedger) -> None:
    results = await asyncio.gather(
        *(ledger.refund("INV-1024", 18500, "charged after cancellation", "k") for _ in range(5))
    )
    assert len({r.id for r in results}) == 1
    refunds = [m for m in await ledger.movements("cus_B3vT9xWc1EyH") if m.kind == "refund"]
    assert [m.id for m in refunds] == [results[0].id]


async def test_refund_errors_read_well(ledger: DemoLedger) -> None:
    with pytest.raises(RefundTooLargeError) as too_large:
        await ledger.refund("INV-1020", 45000, "SLA", "k1")  # $49.90 of $499 went back already
    assert (too_large.value.requested_cents, too_large.value.refundable_cents) == (45000, 44910)
    assert "Cannot refund $450.00 on INV-1020: only $449.10" in str(too_large.value)
    with pytest.raises(RefundTooLargeError, match=r"only €0\.00"):
        await ledger.refund("INV-1036", 100, "dunning", "k2")
    with pytest.raises(NotFoundError, match="No invoice 'INV-9999'"):
        await ledger.refund("INV-9999", 100, "x", "k3")
    for bad in (0, -100):
        with pytest.raises(InvalidAmountError, match="positive whole number of cents"):
            await ledger.refund("INV-1018", bad, "x", "k4")
    await ledger.refund("INV-1018", 1000, "partial", "k5")
    with pytest.raises(IdempotencyConflictError, match="'k5' was already used"):
        await ledger.refund("INV-1017", 1000, "other invoice", "k5")
    for key in ("k1", "k2", "k3", "k4"):
        assert await ledger.movement_for(key) is None


async def test_credit_and_movement_for(ledger: DemoLedger) -> None:
    credit = await ledger.credit(HELIX, 2500, "goodwill: webhook delay", "credit-1")
    assert (credit.id, credit.kind, credit.amount_cents, credit.status) == (
        "CN-0003", "credit", 2500, "issued",
    )  # fmt: skip
    assert credit.describe() == f"Credit CN-0003 of $25.00 to {HELIX} (issued)"
    assert await ledger.credit(HELIX, 2500, "goodwill: webhook delay", "credit-1") == credit
    assert await ledger.movement_for("credit-1") == credit
    with pytest.raises(NotFoundError, match="customer"):
        await ledger.credit("cus_nobody", 100, "x", "credit-2")


async def test_refunds_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    first = DemoLedger(path)
    refund = await first.refund("INV-1033", 271000, "annual refund within 14 days", "approval-9")
    await first.close()
    second = DemoLedger(path)
    try:
        assert await second.movement_for("approval-9") == refund
        invoice = await second.invoice("INV-1033")
        assert invoice is not None and invoice.status == "refunded"
    finally:
        await second.close()
