"""The text patterns the offline policies share: ids, money, services, severity and intent."""

from __future__ import annotations

import pytest

from agents.specialists import extract
from agents.specialists.extract import Money


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Refund INV-1042 please", ["INV-1042"]),
        ("inv 1018 and INV_1017", ["INV-1018", "INV-1017"]),
        ("about invoice #1024", ["INV-1024"]),
        ("Stripe in_1PqXyZabc12 failed", ["in_1PqXyZabc12"]),
        ("no invoice here, just 1042 things", []),
    ],
)
def test_invoice_ids(text: str, found: list[str]) -> None:
    assert extract.invoice_ids(text) == found


@pytest.mark.parametrize(
    ("text", "money"),
    [
        ("refund $120", [Money(12000, "USD")]),
        ("that's 120.50 USD total", [Money(12050, "USD")]),
        ("a €50 credit", [Money(5000, "EUR")]),
        ("EUR 1,234.50 or £3", [Money(123450, "EUR"), Money(300, "GBP")]),
        ("¥1500 is whole yen", [Money(1500, "JPY")]),
        ("refund 40 euros", [Money(4000, "EUR")]),
        ("INV-1042 for 3 seats", []),
    ],
)
def test_amounts_need_a_currency_marker(text: str, money: list[Money]) -> None:
    assert extract.amounts(text) == money


def test_emails_and_customer_ids_survive_slack_markup() -> None:
    text = "<mailto:Priya.Raman@helix-analytics.example|priya.raman@helix-analytics.example> cus_N7kQ2mLp4RtV"
    assert extract.emails(text) == ["priya.raman@helix-analytics.example"]
    assert extract.customer_ids(text) == ["cus_N7kQ2mLp4RtV"]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("SSO login fails with invalid_grant", ["auth"]),
        ("webhooks and the API are slow", ["api", "webhooks"]),
        ("the dashboard reports time out", ["dashboard"]),
        ("my cat is hungry", []),
    ],
)
def test_services(text: str, names: list[str]) -> None:
    assert extract.services(text) == names


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("declaring sev 3 for exports", "SEV3"),
        ("The API is down for everyone", "SEV1"),
        ("partial outage in EU", "SEV2"),
        ("webhook deliveries delayed", "SEV2"),
        ("possible security issue, urgent", "SEV2"),
        ("exports are a bit slow", None),
    ],
)
def test_severity(text: str, level: str | None) -> None:
    assert extract.severity(text) == level


@pytest.mark.parametrize(
    ("text", "category", "priority"),
    [
        ("Why was I charged twice on INV-1018?", "billing", "normal"),
        ("SSO login fails with invalid_grant", "technical", "normal"),
        ("The API is down for everyone", "incident", "urgent"),
        ("please add three seats to our account, no rush", "account", "low"),
        ("hello", "general", "normal"),
    ],
)
def test_category_and_priority(text: str, category: str, priority: str) -> None:
    assert (extract.category(text), extract.priority(text)) == (category, priority)


def test_intents() -> None:
    assert extract.wants_refund("can you refund it") and not extract.wants_refund("thanks")
    assert extract.wants_credit("give them a credit") and not extract.wants_credit("credit card")
    assert extract.wants_page("please page on-call now")
    assert extract.wants_page("page platform-oncall for SEV2")
    assert not extract.wants_page("the status page is stale")
    assert extract.wants_human("I want to talk to a manager")


def test_company_candidates_skip_sentence_starts_and_months() -> None:
    assert extract.company_candidates("Why was Studio Brightline charged in March?") == [
        "Studio Brightline"
    ]
    assert extract.company_candidates("Helix Analytics was charged twice") == ["Helix Analytics"]
    assert extract.company_candidates("Refund INV-1018 please") == []


def test_clip_and_title() -> None:
    assert extract.clip("one two three four", 12) == "one two…"
    assert extract.title_of("Webhooks stopped. We tried everything.") == "Webhooks stopped."
