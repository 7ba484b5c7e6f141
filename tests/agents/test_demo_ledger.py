"""The demo billing ledger is internally consistent and still tells the stories the demo needs.

The billing agent explains invoices from this file, so a wrong sum here becomes a wrong answer
in the demo. These checks are the rules a real ledger obeys, plus one test per story.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime
from importlib.resources import files
from typing import Any

import pytest

Record = dict[str, Any]

LEDGER: dict[str, Any] = json.loads(
    (files("agents.demo") / "ledger.json").read_text(encoding="utf-8")
)
DUNNING_DOC = (files("agents.demo") / "kb" / "payment-declined-dunning.md").read_text(
    encoding="utf-8"
)

CUSTOMERS: dict[str, Record] = {c["id"]: c for c in LEDGER["customers"]}
INVOICES: dict[str, Record] = {i["id"]: i for i in LEDGER["invoices"]}
PAYMENTS: dict[str, Record] = {p["id"]: p for p in LEDGER["payments"]}
REFUNDS: dict[str, Record] = {r["id"]: r for r in LEDGER["refunds"]}
CREDIT_NOTES: dict[str, Record] = {c["id"]: c for c in LEDGER["credit_notes"]}
AS_OF = date.fromisoformat(LEDGER["meta"]["as_of"])

INVOICE_STATUSES = {"paid", "open", "void", "refunded", "uncollectible"}
PAYMENT_STATUSES = {"succeeded", "failed", "refunded"}
COLLECTED = {"succeeded", "refunded"}  # payments whose money arrived (refunded ones later left)


def _payments_of(invoice_id: str) -> list[Record]:
    return [p for p in LEDGER["payments"] if p["invoice"] == invoice_id]


def _refunds_of(invoice_id: str) -> list[Record]:
    return [r for r in LEDGER["refunds"] if r["invoice"] == invoice_id]


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- identities and references --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("collection", "pattern"),
    [
        ("customers", r"cus_[A-Za-z0-9]{12,}"),
        ("invoices", r"INV-\d{4}"),
        ("payments", r"(ch|py)_[A-Za-z0-9]{12,}"),
        ("refunds", r"re_[A-Za-z0-9]{12,}"),
        ("credit_notes", r"CN-\d{4}"),
    ],
)
def test_ids_are_unique_and_well_formed(collection: str, pattern: str) -> None:
    ids = [record["id"] for record in LEDGER[collection]]
    assert ids, collection
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates
    assert all(re.fullmatch(pattern, i) for i in ids), ids


def test_sizes_match_the_demo_readme() -> None:
    assert len(CUSTOMERS) == 12
    assert len(INVOICES) == 40
    assert sorted(INVOICES) == [f"INV-{n}" for n in range(1001, 1041)]
    assert len(PAYMENTS) >= 40


def test_customers_are_complete_and_fictional() -> None:
    plans = LEDGER["meta"]["plans"]
    for customer in CUSTOMERS.values():
        assert customer["currency"] in {"USD", "EUR"}
        assert customer["plan"] in plans[customer["currency"]]
        assert customer["email"].endswith(".example"), customer["email"]
        assert customer["name"] and customer["company"]
        assert date.fromisoformat(customer["created"]) <= AS_OF
        assert customer["status"] in {"active", "canceled"}
        assert (customer["status"] == "canceled") == ("canceled_at" in customer)
        assert customer["subscriptions"]


def test_invoices_reference_their_customer_and_subscription() -> None:
    for invoice in INVOICES.values():
        customer = CUSTOMERS[invoice["customer"]]
        assert invoice["currency"] == customer["currency"]
        assert invoice["subscription"] in {s["id"] for s in customer["subscriptions"]}


def test_payments_reference_their_invoice() -> None:
    for payment in PAYMENTS.values():
        invoice = INVOICES[payment["invoice"]]
        assert payment["customer"] == invoice["customer"]
        assert payment["currency"] == invoice["currency"]
        assert payment["amount"] == invoice["total"]
        assert _ts(payment["created"]).date() >= date.fromisoformat(invoice["issued"])


def test_refunds_and_credit_notes_reference_their_records() -> None:
    for refund in REFUNDS.values():
        payment = PAYMENTS[refund["payment"]]
        assert refund["invoice"] == payment["invoice"]
        assert refund["customer"] == payment["customer"]
        assert refund["currency"] == payment["currency"]
        assert payment["status"] in COLLECTED
        assert _ts(refund["created"]) > _ts(payment["created"])
    for note in CREDIT_NOTES.values():
        invoice = INVOICES[note["applied_to"]]
        assert note["customer"] == invoice["customer"]
        assert note["currency"] == invoice["currency"]
        assert _ts(note["created"]).date() <= date.fromisoformat(invoice["issued"])


# -- money ----------------------------------------------------------------------------------------


def test_invoice_totals_are_the_sum_of_their_lines() -> None:
    for invoice in INVOICES.values():
        assert invoice["total"] == sum(line["amount"] for line in invoice["lines"])
        assert invoice["total"] > 0
        assert all(isinstance(line["amount"], int) for line in invoice["lines"])


def test_subscription_lines_use_list_prices() -> None:
    plans = LEDGER["meta"]["plans"]
    for invoice in INVOICES.values():
        prices = plans[invoice["currency"]]
        for line in invoice["lines"]:
            if line["kind"] == "subscription":
                assert line["amount"] in prices.values(), (invoice["id"], line)


def test_invoice_status_agrees_with_its_payments_and_refunds() -> None:
    for invoice in INVOICES.values():
        payments = _payments_of(invoice["id"])
        collected = sum(p["amount"] for p in payments if p["status"] in COLLECTED)
        refunded = sum(r["amount"] for r in _refunds_of(invoice["id"]))
        assert invoice["amount_paid"] == collected, invoice["id"]
        assert invoice["amount_refunded"] == refunded, invoice["id"]
        status = invoice["status"]
        assert status in INVOICE_STATUSES
        if status == "paid":
            # Paid once, in full; what is kept is the total less any partial refund.
            assert collected == invoice["total"], invoice["id"]
            assert collected - refunded == invoice["total"] - invoice["amount_refunded"]
            assert refunded < invoice["total"]
            assert invoice["paid_at"] is not None
        elif status == "refunded":
            assert collected == refunded == invoice["total"], invoice["id"]
        else:
            assert collected == 0 and refunded == 0, invoice["id"]
            assert invoice["paid_at"] is None
        if status == "void":
            assert not payments and invoice["voided_at"] and invoice["void_reason"]
        if status == "open":
            assert _ts(invoice["next_payment_attempt"]).date() > AS_OF
        if status == "uncollectible":
            assert payments and all(p["status"] == "failed" for p in payments)


def test_payment_status_agrees_with_its_refunds() -> None:
    for payment in PAYMENTS.values():
        refunded = sum(r["amount"] for r in REFUNDS.values() if r["payment"] == payment["id"])
        assert payment["amount_refunded"] == refunded
        assert refunded <= payment["amount"]
        assert payment["status"] in PAYMENT_STATUSES
        assert (payment["status"] == "refunded") == (refunded == payment["amount"] > 0)


def test_failed_payments_say_why_and_others_do_not() -> None:
    for payment in PAYMENTS.values():
        if payment["status"] == "failed":
            assert payment["failure_code"] and payment["failure_message"]
            # The runbook must explain every code the agent can meet in the ledger.
            assert f"`{payment['failure_code']}`" in DUNNING_DOC, payment["failure_code"]
        else:
            assert "failure_code" not in payment and "failure_message" not in payment


def test_payment_methods_are_well_formed() -> None:
    for payment in PAYMENTS.values():
        method = payment["payment_method"]
        assert re.fullmatch(r"\d{4}", method["last4"])
        if method["type"] == "card":
            assert payment["id"].startswith("ch_")
            assert method["brand"] in {"visa", "mastercard", "amex", "discover"}
            assert re.fullmatch(r"\d{2}/\d{4}", method["exp"])
        else:
            assert method["type"] == "sepa_debit" and payment["id"].startswith("py_")


def test_credit_notes_appear_as_negative_lines_on_the_invoice_they_pay() -> None:
    for note in CREDIT_NOTES.values():
        lines = [
            line
            for line in INVOICES[note["applied_to"]]["lines"]
            if note["id"] in line["description"]
        ]
        assert [line["amount"] for line in lines] == [-note["amount"]]


def test_refunds_over_the_threshold_were_approved() -> None:
    thresholds = LEDGER["meta"]["refund_approval_thresholds"]
    for refund in REFUNDS.values():
        if refund["amount"] > thresholds["billing_lead"]:
            assert refund["approved_by"], refund["id"]


def test_dates_fall_in_2026_and_before_as_of() -> None:
    for invoice in INVOICES.values():
        issued = date.fromisoformat(invoice["issued"])
        assert issued.year == 2026 and issued <= AS_OF
        assert invoice["period"]["start"] < invoice["period"]["end"]
    for record in [*PAYMENTS.values(), *REFUNDS.values(), *CREDIT_NOTES.values()]:
        assert _ts(record["created"]).date() <= AS_OF


# -- the stories ----------------------------------------------------------------------------------


def test_story_double_charge() -> None:
    by_period: dict[tuple[str, str, int], list[str]] = defaultdict(list)
    for invoice in INVOICES.values():
        if invoice["status"] == "paid":
            key = (invoice["customer"], invoice["period"]["start"], invoice["total"])
            by_period[key].append(invoice["id"])
    doubles = [sorted(ids) for ids in by_period.values() if len(ids) > 1]
    assert doubles == [["INV-1017", "INV-1018"]]
    first, second = INVOICES["INV-1017"], INVOICES["INV-1018"]
    assert first["subscription"] != second["subscription"]
    assert not _refunds_of("INV-1018")  # left for the demo to refund, with approval


def test_story_charge_after_cancellation() -> None:
    invoice = INVOICES["INV-1024"]
    customer = CUSTOMERS[invoice["customer"]]
    assert invoice["status"] == "paid" and not _refunds_of("INV-1024")
    assert _ts(customer["canceled_at"]).date() < date.fromisoformat(invoice["issued"])
    late = [
        i["id"]
        for i in INVOICES.values()
        if i["status"] == "paid"
        and CUSTOMERS[i["customer"]].get("canceled_at")
        and _ts(CUSTOMERS[i["customer"]]["canceled_at"]).date() < date.fromisoformat(i["issued"])
    ]
    assert late == ["INV-1024"]


def test_story_prorated_upgrade() -> None:
    invoice = INVOICES["INV-1022"]
    amounts = [line["amount"] for line in invoice["lines"] if line["kind"] == "proration"]
    assert amounts == [-9950, 24950] and invoice["total"] == 15000
    plans = LEDGER["meta"]["plans"]["USD"]
    assert amounts == [-plans["team"] // 2, plans["business"] // 2]  # 14 of 28 days


def test_story_failed_card_then_retry() -> None:
    attempts = sorted(_payments_of("INV-1026"), key=lambda p: p["created"])
    assert [p["status"] for p in attempts] == ["failed", "succeeded"]
    assert attempts[0]["failure_code"] == "expired_card"
    assert attempts[0]["payment_method"]["last4"] != attempts[1]["payment_method"]["last4"]
    assert INVOICES["INV-1026"]["status"] == "paid"


def test_story_annual_renewals() -> None:
    for invoice_id in ("INV-1010", "INV-1033"):
        invoice = INVOICES[invoice_id]
        start = date.fromisoformat(invoice["period"]["start"])
        end = date.fromisoformat(invoice["period"]["end"])
        assert (end - start).days == 365 and invoice["status"] == "paid"
    # Pinecrest asks for a refund inside the 14-day window; over $1,000, so the finance manager.
    renewal = INVOICES["INV-1033"]
    assert (AS_OF - date.fromisoformat(renewal["issued"])).days <= 14
    assert renewal["total"] > LEDGER["meta"]["refund_approval_thresholds"]["finance_manager"]


def test_story_dunning_in_progress_and_ended() -> None:
    open_invoice = INVOICES["INV-1036"]
    assert open_invoice["status"] == "open"
    assert [p["status"] for p in _payments_of("INV-1036")] == ["failed"] * 3
    assert CUSTOMERS[open_invoice["customer"]]["dunning"]["invoice"] == "INV-1036"
    lost = INVOICES["INV-1011"]
    assert lost["status"] == "uncollectible" and len(_payments_of("INV-1011")) == 4
    assert CUSTOMERS[lost["customer"]]["cancel_reason"] == "non_payment"
