"""StripeBilling against a fake Stripe: a local aiohttp server answering Stripe-shaped JSON.

stripe-python is the real one, with its real aiohttp client; only the API base moves to
127.0.0.1 on a free port, so these tests exercise the wire format (form-encoded POSTs,
``expand[]`` and ``Idempotency-Key`` headers) without any network. The fake answers only the
endpoints the connector uses, and anything else with a 404 so a new call cannot pass silently.
"""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aiohttp import web

from agents.connectors.billing import (
    AmbiguousCustomerError,
    ConnectorUnavailableError,
    IdempotencyConflictError,
    InvalidAmountError,
    NotFoundError,
    RefundTooLargeError,
)
from agents.connectors.stripe_billing import StripeBilling

Json = dict[str, Any]
API_KEY = "sk_test_switchboard"
T0 = int(datetime(2026, 3, 3, 9, 0, tzinfo=UTC).timestamp())


def _list(data: list[Json], url: str, kind: str = "list") -> Json:
    return {"object": kind, "data": data, "has_more": False, "url": url, "next_page": None}


def _error(
    status: int, message: str, *, kind: str = "invalid_request_error", **extra: str
) -> web.Response:
    return web.json_response({"error": {"type": kind, "message": message, **extra}}, status=status)


def _missing(what: str, ident: str) -> web.Response:
    return _error(404, f"No such {what}: '{ident}'", code="resource_missing", param="id")


@dataclass
class FakeStripe:
    """The few Stripe endpoints StripeBilling calls, over in-memory records."""

    customers: dict[str, Json] = field(default_factory=dict)
    invoices: dict[str, Json] = field(default_factory=dict)
    charges: dict[str, Json] = field(default_factory=dict)
    refunds: list[Json] = field(default_factory=list)
    balance: dict[str, list[Json]] = field(default_factory=dict)
    idempotent: dict[str, tuple[dict[str, str], Json]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    posted: list[tuple[str, dict[str, str], str | None]] = field(default_factory=list)
    fail_with: int | None = None
    lose_next_answer: bool = False

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._auth])
        get, post = app.router.add_get, app.router.add_post
        get("/v1/customers/search", self.search_customers)
        get("/v1/customers/{id}", self.get_customer)
        get("/v1/customers/{id}/balance_transactions", self.list_balance)
        post("/v1/customers/{id}/balance_transactions", self.create_balance)
        get("/v1/invoices/search", self.search_invoices)
        get("/v1/invoices", self.list_invoices)
        get("/v1/invoices/{id}", self.get_invoice)
        get("/v1/charges", self.list_charges)
        get("/v1/charges/{id}", self.get_charge)
        get("/v1/refunds", self.list_refunds)
        post("/v1/refunds", self.create_refund)
        return app

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return _error(401, "Invalid API Key provided", kind="invalid_request_error")
        if self.fail_with is not None:
            return _error(self.fail_with, "An unknown error occurred", kind="api_error")
        response: web.StreamResponse = await handler(request)
        return response

    # -- customers ------------------------------------------------------------------------------

    def _customer(self, record: Json, expand: bool) -> Json:
        if not expand:
            return {k: v for k, v in record.items() if k != "subscriptions"}
        return {**record, "subscriptions": _list(record["subscriptions"], "/v1/subscriptions")}

    async def get_customer(self, request: web.Request) -> web.Response:
        record = self.customers.get(request.match_info["id"])
        if record is None:
            return _missing("customer", request.match_info["id"])
        expand = request.query.get("expand[0]") == "subscriptions"
        return web.json_response(self._customer(record, expand))

    async def search_customers(self, request: web.Request) -> web.Response:
        expand = request.query.get("expand[0]") == "data.subscriptions"
        found = []
        for record in self.customers.values():
            for fld, op, value in re.findall(
                r'([\w\[\]"]+?)(~|:)"([^"]*)"', request.query["query"]
            ):
                have = record["metadata"].get("company", "") if "metadata" in fld else record[fld]
                have, value = (have or "").lower(), value.lower()
                if (op == "~" and value in have) or (op == ":" and value == have):
                    found.append(self._customer(record, expand))
                    break
        return web.json_response(_list(found, "/v1/customers/search", "search_result"))

    # -- invoices -------------------------------------------------------------------------------

    def _invoice(self, record: Json, expand: bool) -> Json:
        shown = {k: v for k, v in record.items() if k != "payments"}
        if expand:
            shown["payments"] = _list(record["payments"], "/v1/invoice_payments")
        return shown

    async def get_invoice(self, request: web.Request) -> web.Response:
        record = self.invoices.get(request.match_info["id"])
        if record is None:
            return _missing("invoice", request.match_info["id"])
        return web.json_response(
            self._invoice(record, request.query.get("expand[0]") == "payments")
        )

    async def list_invoices(self, request: web.Request) -> web.Response:
        customer = request.query["customer"]
        if customer not in self.customers:
            return _error(
                400, f"No such customer: '{customer}'", code="resource_missing", param="customer"
            )
        expand = request.query.get("expand[0]") == "data.payments"
        found = [
            self._invoice(i, expand) for i in self.invoices.values() if i["customer"] == customer
        ]
        found.sort(key=lambda i: i["created"], reverse=True)
        return web.json_response(_list(found, "/v1/invoices"))

    async def search_invoices(self, request: web.Request) -> web.Response:
        number = re.fullmatch(r'number:"(.*)"', request.query["query"])
        assert number is not None, request.query["query"]
        expand = request.query.get("expand[0]") == "data.payments"
        found = [
            self._invoice(i, expand) for i in self.invoices.values() if i["number"] == number[1]
        ]
        return web.json_response(_list(found, "/v1/invoices/search", "search_result"))

    # -- charges and refunds --------------------------------------------------------------------

    async def get_charge(self, request: web.Request) -> web.Response:
        record = self.charges.get(request.match_info["id"])
        return web.json_response(record) if record else _missing("charge", request.match_info["id"])

    async def list_charges(self, request: web.Request) -> web.Response:
        filters = {k: v for k, v in request.query.items() if k in {"customer", "payment_intent"}}
        found = [c for c in self.charges.values() if all(c[k] == v for k, v in filters.items())]
        found.sort(key=lambda c: c["created"], reverse=True)
        return web.json_response(_list(found, "/v1/charges"))

    async def list_refunds(self, request: web.Request) -> web.Response:
        charge = request.query.get("charge")
        found = [r for r in reversed(self.refunds) if charge in (None, r["charge"])]
        return web.json_response(_list(found, "/v1/refunds"))

    async def _replay(
        self, request: web.Request
    ) -> tuple[dict[str, str], str | None, web.Response | None]:
        """Stripe's idempotency: a known key with the same body answers the first response."""
        form = {k: str(v) for k, v in (await request.post()).items()}
        key = request.headers.get("Idempotency-Key")
        self.posted.append((request.path, form, key))
        if key in self.idempotent:
            first_form, first_answer = self.idempotent[key]
            if first_form != form:
                message = "Keys for idempotent requests can only be used with the same parameters"
                return form, key, _error(400, message, kind="idempotency_error")
            return form, key, web.json_response(first_answer)
        return form, key, None

    async def create_refund(self, request: web.Request) -> web.Response:
        form, key, replay = await self._replay(request)
        if replay is not None:
            return replay
        charge = self.charges[form["charge"]]
        amount = int(form["amount"])
        if amount > charge["amount"] - charge["amount_refunded"]:
            return _error(400, "Refund amount is greater than unrefunded amount on charge")
        refund = self.add_refund(charge["id"], amount, _metadata(form))
        if key is not None:
            self.idempotent[key] = (form, refund)
        if self.lose_next_answer:  # the refund is made, but its answer never arrives
            self.lose_next_answer = False
            return _error(502, "Bad gateway", kind="api_error")
        return web.json_response(refund)

    def add_refund(self, charge_id: str, amount: int, metadata: dict[str, str]) -> Json:
        charge = self.charges[charge_id]
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = {
            "id": f"re_fake{len(self.refunds) + 1:04d}", "object": "refund", "amount": amount,
            "charge": charge_id, "currency": charge["currency"], "created": T0 + 3600,
            "metadata": metadata, "reason": None, "status": "succeeded",
        }  # fmt: skip
        self.refunds.append(refund)
        return refund

    # -- customer balance -----------------------------------------------------------------------

    async def list_balance(self, request: web.Request) -> web.Response:
        txns = self.balance.get(request.match_info["id"], [])
        return web.json_response(
            _list(list(reversed(txns)), "/v1/customers/x/balance_transactions")
        )

    async def create_balance(self, request: web.Request) -> web.Response:
        form, key, replay = await self._replay(request)
        if replay is not None:
            return replay
        customer = request.match_info["id"]
        txns = self.balance.setdefault(customer, [])
        txn = {
            "id": f"cbtxn_fake{len(txns) + 1:04d}", "object": "customer_balance_transaction",
            "amount": int(form["amount"]), "currency": form["currency"], "customer": customer,
            "created": T0 + 7200, "description": form.get("description"), "invoice": None,
            "metadata": _metadata(form), "type": "adjustment",
        }  # fmt: skip
        txns.append(txn)
        if key is not None:
            self.idempotent[key] = (form, txn)
        return web.json_response(txn)


def _metadata(form: dict[str, str]) -> dict[str, str]:
    return {k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[")}


def _charge(ident: str, pi: str, status: str, last4: str, **extra: Any) -> Json:
    return {
        "id": ident, "object": "charge", "amount": 19900, "amount_refunded": 0, "currency": "usd",
        "customer": "cus_Helix", "payment_intent": pi, "status": status, "refunded": False,
        "created": T0 + len(last4) + int(last4), "failure_code": None, "failure_message": None,
        "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": last4}},
        **extra,
    }  # fmt: skip


def _seed(fake: FakeStripe) -> None:
    subscription = {
        "id": "sub_1", "object": "subscription", "status": "active",
        "items": _list([{"id": "si_1", "object": "subscription_item", "price": {
            "id": "price_team", "object": "price", "nickname": "team", "lookup_key": None,
        }}], "/v1/subscription_items"),
    }  # fmt: skip
    for ident, name, email, company, subs in [
        ("cus_Helix", "Priya Raman", "priya@helix.example", "Helix Analytics", [subscription]),
        ("cus_Robo", "Helix Robotics", "ops@robotics.example", None, []),
        ("cus_RoboEU", "Helix Robotics Europe", "eu@robotics.example", None, []),
    ]:
        fake.customers[ident] = {
            "id": ident, "object": "customer", "name": name, "email": email, "currency": "usd",
            "description": None, "metadata": {"company": company} if company else {},
            "subscriptions": subs,
        }  # fmt: skip
    for ident, number, status, paid, pi, created in [
        ("in_1", "HX-0001", "paid", 19900, "pi_1", T0),
        ("in_2", "HX-0002", "paid", 19900, "pi_2", T0 + 10),
        ("in_3", "HX-0003", "open", 0, None, T0 + 20),
    ]:
        fake.invoices[ident] = {
            "id": ident, "object": "invoice", "number": number, "customer": "cus_Helix",
            "currency": "usd", "status": status, "total": 19900, "amount_paid": paid,
            "created": created, "period_start": T0, "period_end": T0 + 28 * 86400,
            "status_transitions": {"finalized_at": created, "paid_at": None},
            "lines": _list([{"id": "il_1", "object": "line_item", "amount": 19900,
                             "description": "Team plan (monthly)"}], f"/v1/invoices/{ident}/lines"),
            "payments": [{"id": f"inpay_{ident}", "object": "invoice_payment", "invoice": ident,
                          "payment": {"type": "payment_intent", "payment_intent": pi}}] if pi else [],
        }  # fmt: skip
    fake.charges["ch_fail"] = _charge(
        "ch_fail", "pi_1", "failed", "0341",
        failure_code="card_declined", failure_message="Your card was declined.",
    )  # fmt: skip
    fake.charges["ch_ok"] = _charge("ch_ok", "pi_1", "succeeded", "4242")
    fake.charges["ch_two"] = _charge("ch_two", "pi_2", "succeeded", "4243")


@pytest.fixture
def fake() -> FakeStripe:
    stripe_fake = FakeStripe()
    _seed(stripe_fake)
    return stripe_fake


@pytest.fixture
async def api_base(fake: FakeStripe) -> AsyncIterator[str]:
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


@pytest.fixture
async def billing(api_base: str) -> AsyncIterator[StripeBilling]:
    connector = StripeBilling(API_KEY, api_base=api_base, max_network_retries=0)
    yield connector
    await connector.close()


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A port that refuses connections: bound, so nobody else takes it, but not listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


# -- reading ------------------------------------------------------------------------------------


async def test_customer_maps_metadata_and_subscription(billing: StripeBilling) -> None:
    customer = await billing.customer("cus_Helix")
    assert customer is not None
    assert (customer.name, customer.company, customer.email) == (
        "Priya Raman", "Helix Analytics", "priya@helix.example",
    )  # fmt: skip
    assert (customer.plan, customer.currency, customer.status) == ("team", "USD", "active")
    assert await billing.customer("cus_nobody") is None


async def test_find_customer_by_id_email_and_name(billing: StripeBilling) -> None:
    by_id = await billing.find_customer("cus_Helix")
    by_email = await billing.find_customer("PRIYA@helix.example")
    by_company = await billing.find_customer("helix analytics")
    assert by_id == by_email == by_company
    assert by_id is not None and by_id.id == "cus_Helix"
    exact = await billing.find_customer("Helix Robotics")  # also in "Helix Robotics Europe"
    assert exact is not None and exact.id == "cus_Robo"
    with pytest.raises(AmbiguousCustomerError, match="2 customers") as info:
        await billing.find_customer("robotics")
    assert {c.id for c in info.value.candidates} == {"cus_Robo", "cus_RoboEU"}
    assert await billing.find_customer("Nobody Inc") is None


async def test_invoice_by_id_or_number_with_refunds_summed_from_charges(
    billing: StripeBilling, fake: FakeStripe
) -> None:
    fake.add_refund("ch_ok", 5000, {})
    invoice = await billing.invoice("in_1")
    assert invoice is not None
    assert invoice == await billing.invoice("HX-0001")
    assert (invoice.number, invoice.customer_id, invoice.status) == ("HX-0001", "cus_Helix", "paid")
    assert (invoice.amount_cents, invoice.amount_paid_cents, invoice.currency) == (
        19900,
        19900,
        "USD",
    )
    assert invoice.amount_refunded_cents == 5000 and invoice.refundable_cents == 14900
    assert invoice.lines == (("Team plan (monthly)", 19900),)
    assert invoice.period.start == date(2026, 3, 3) and invoice.issued == date(2026, 3, 3)
    assert await billing.invoice("in_missing") is None
    assert await billing.invoice("HX-9999") is None


async def test_invoices_of_a_customer_in_two_requests(
    billing: StripeBilling, fake: FakeStripe
) -> None:
    fake.requests.clear()
    invoices = await billing.invoices("cus_Helix")
    assert [i.id for i in invoices] == ["in_3", "in_2", "in_1"]
    assert [i.refundable_cents for i in invoices] == [0, 19900, 19900]
    assert fake.requests == [("GET", "/v1/invoices"), ("GET", "/v1/charges")]
    with pytest.raises(NotFoundError, match="cus_nobody"):
        await billing.invoices("cus_nobody")


async def test_payments_show_each_attempt_and_why_it_failed(billing: StripeBilling) -> None:
    attempts = await billing.payments(invoice_id="HX-0001")
    assert [(p.id, p.status, p.method) for p in attempts] == [
        ("ch_ok", "succeeded", "visa •••• 4242"),
        ("ch_fail", "failed", "visa •••• 0341"),
    ]
    assert attempts[1].failure_reason == "Your card was declined. (card_declined)"
    everything = await billing.payments(customer_id="cus_Helix")
    assert {(p.id, p.invoice_id) for p in everything} == {
        ("ch_ok", "in_1"), ("ch_fail", "in_1"), ("ch_two", "in_2"),
    }  # fmt: skip
    with pytest.raises(NotFoundError):
        await billing.payments(invoice_id="in_missing")


# -- moving money -------------------------------------------------------------------------------


async def test_refund_sends_the_key_and_returns_the_same_refund_on_retry(
    billing: StripeBilling, fake: FakeStripe
) -> None:
    refund = await billing.refund("HX-0002", 19900, "duplicate", "approval-7")
    assert (refund.kind, refund.invoice_id, refund.customer_id) == ("refund", "in_2", "cus_Helix")
    assert (refund.amount_cents, refund.currency, refund.status) == (19900, "USD", "succeeded")
    assert refund.idempotency_key == "approval-7" and refund.reason == "duplicate"
    [(path, form, key)] = fake.posted
    assert (path, key) == ("/v1/refunds", "approval-7")
    assert (
        form["charge"] == "ch_two" and form["amount"] == "19900" and form["reason"] == "duplicate"
    )
    assert form["metadata[idempotency_key]"] == "approval-7"
    assert form["metadata[invoice_id]"] == "in_2"

    again = await billing.refund("HX-0002", 19900, "duplicate", "approval-7")
    assert again == refund
    assert len(fake.posted) == 1  # found by its metadata; Stripe was not asked twice
    after = await billing.invoice("in_2")
    assert after is not None and after.amount_refunded_cents == 19900


async def test_refund_free_text_reason_goes_to_metadata_only(
    billing: StripeBilling, fake: FakeStripe
) -> None:
    refund = await billing.refund("in_1", 1500, "SLA credit for the 18 Feb outage", "k-sla")
    assert refund.reason == "SLA credit for the 18 Feb outage"
    [(_, form, _)] = fake.posted
    assert "reason" not in form and form["metadata[reason]"] == refund.reason
    assert form["charge"] == "ch_ok"  # the attempt that succeeded, not the declined one


async def test_refund_limits_and_key_reuse(billing: StripeBilling, fake: FakeStripe) -> None:
    with pytest.raises(RefundTooLargeError, match=r"\$199\.01 on HX-0001: only \$199\.00"):
        await billing.refund("in_1", 19901, "too much", "k1")
    with pytest.raises(RefundTooLargeError, match=r"only \$0\.00"):
        await billing.refund("in_3", 100, "open invoice", "k2")
    with pytest.raises(InvalidAmountError):
        await billing.refund("in_1", 0, "nothing", "k3")
    with pytest.raises(NotFoundError, match="in_missing"):
        await billing.refund("in_missing", 100, "x", "k4")
    await billing.refund("in_1", 1000, "first", "k5")
    with pytest.raises(IdempotencyConflictError, match="k5"):
        await billing.refund("in_1", 2000, "second", "k5")
    assert len(fake.posted) == 1


async def test_movement_for_finds_a_refund_whose_answer_was_lost(
    billing: StripeBilling, fake: FakeStripe
) -> None:
    fake.lose_next_answer = True
    with pytest.raises(ConnectorUnavailableError, match="failed to refund the invoice"):
        await billing.refund("in_1", 700, "partial", "lost-1")
    found = await billing.movement_for("lost-1")
    assert found is not None and (found.id, found.amount_cents) == ("re_fake0001", 700)
    assert (found.invoice_id, found.customer_id, found.reason) == ("in_1", "cus_Helix", "partial")
    assert await billing.movement_for("never-made") is None
    # A retry of the same refund finds it too, instead of refunding twice.
    assert await billing.refund("in_1", 700, "partial", "lost-1") == found
    assert len(fake.posted) == 1


async def test_credit_is_a_negative_balance_transaction_once_per_key(
    billing: StripeBilling, fake: FakeStripe
) -> None:
    credit = await billing.credit("cus_Helix", 2500, "goodwill: webhook delay", "credit-1")
    assert (credit.kind, credit.customer_id, credit.amount_cents) == ("credit", "cus_Helix", 2500)
    [(path, form, key)] = fake.posted
    assert path == "/v1/customers/cus_Helix/balance_transactions" and key == "credit-1"
    assert (form["amount"], form["currency"]) == ("-2500", "usd")
    assert await billing.credit("cus_Helix", 2500, "goodwill: webhook delay", "credit-1") == credit
    assert len(fake.posted) == 1
    assert await billing.movement_for("credit-1", customer_id="cus_Helix") == credit
    assert await billing.movement_for("credit-1") is None  # credits need the customer hint
    with pytest.raises(NotFoundError, match="cus_nobody"):
        await billing.credit("cus_nobody", 100, "x", "credit-2")


# -- failures -----------------------------------------------------------------------------------


async def test_rejected_api_key_is_reported_as_unavailable(api_base: str) -> None:
    connector = StripeBilling("sk_test_wrong", api_base=api_base, max_network_retries=0)
    try:
        with pytest.raises(ConnectorUnavailableError, match="rejected our API key"):
            await connector.invoice("in_1")
    finally:
        await connector.close()


async def test_server_error_is_reported_as_unavailable(
    billing: StripeBilling, fake: FakeStripe
) -> None:
    fake.fail_with = 500
    with pytest.raises(ConnectorUnavailableError, match="Stripe is unavailable"):
        await billing.invoices("cus_Helix")


async def test_unreachable_stripe_is_reported_as_unavailable(refused_port: int) -> None:
    connector = StripeBilling(
        API_KEY, api_base=f"http://127.0.0.1:{refused_port}", max_network_retries=0
    )
    try:
        with pytest.raises(ConnectorUnavailableError, match="could not reach it"):
            await connector.refund("in_1", 100, "x", "k")
    finally:
        await connector.close()
