"""`BillingConnector` over a Stripe account, with stripe-python's native async calls.

stripe-python (v12 here) gives every service method an ``_async`` twin
(``client.v1.refunds.create_async``) that runs on an async HTTP client: httpx by default when
it is installed. We hand it ``stripe.AIOHTTPClient`` instead, because aiohttp is already our
dependency, so no call blocks the event loop and no thread pool is involved. ``api_base``
points the client elsewhere (the tests' fake server). We use the ``client.v1`` services: the
flat ``client.customers`` style is marked for removal in the next major version.

How Stripe's objects map to ours:

- `Customer`: ``company`` is ``metadata["company"]``, else the description, else the name;
  ``plan`` is ``metadata["plan"]`` or the first subscription's price nickname.
- `Invoice`: ``id`` is ``in_...`` and ``number`` the printed number (`invoice` accepts either).
  Since API version 2025-03-31 an invoice no longer names its charge: its ``payments`` (an
  expandable list of InvoicePayment) point to PaymentIntents, whose charges are the payment
  attempts; ``amount_refunded_cents`` is summed from those charges.
- `MoneyMovement`: a refund is a Stripe Refund of the charge that paid the invoice; a credit is
  a customer balance transaction (a negative amount is credit in Stripe's terms).

Idempotency: every refund and credit is sent with Stripe's ``Idempotency-Key`` header, and
the key is also stored in the object's metadata, because Stripe forgets keys after 24 hours.
Before creating, we look for a movement with that key among the invoice's refunds (or the
customer's balance transactions), so a retry days later still returns the first one.
Stripe cannot search refunds by metadata, so `movement_for` scans the latest ``scan_limit``
refunds, and credits only when given the ``customer_id`` hint.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, TypeVar

import stripe

from agents.connectors.billing import (
    AmbiguousCustomerError,
    BillingConnector,
    BillingError,
    ConnectorUnavailableError,
    Customer,
    IdempotencyConflictError,
    InvalidAmountError,
    Invoice,
    InvoiceLine,
    MoneyMovement,
    NotFoundError,
    Payment,
    Period,
    RefundTooLargeError,
    payment_method_label,
)

__all__ = ["StripeBilling"]

_PROVIDER = "Stripe"
_STRIPE_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})
_T = TypeVar("_T", bound=stripe.StripeObject)


@contextmanager
def _translated(action: str, missing: tuple[str, str] | None = None) -> Iterator[None]:
    """Turn stripe-python's exceptions into billing errors a support agent can read.

    ``action`` completes "could not ..."; ``missing`` names the record (kind, id) that a
    "resource_missing" answer refers to.
    """
    try:
        yield
    except stripe.InvalidRequestError as exc:
        if exc.code == "resource_missing":
            kind, ident = missing or ("record", str(exc.param or "?"))
            raise NotFoundError(kind, ident) from exc
        raise BillingError(f"Stripe refused to {action}: {exc.user_message or exc}") from exc
    except stripe.AuthenticationError as exc:
        raise ConnectorUnavailableError(_PROVIDER, "it rejected our API key") from exc
    except stripe.PermissionError as exc:
        raise ConnectorUnavailableError(_PROVIDER, f"our API key may not {action}") from exc
    except stripe.RateLimitError as exc:
        raise ConnectorUnavailableError(_PROVIDER, "too many requests; try again soon") from exc
    except stripe.APIConnectionError as exc:
        raise ConnectorUnavailableError(_PROVIDER, f"could not reach it to {action}") from exc
    except stripe.APIError as exc:
        raise ConnectorUnavailableError(_PROVIDER, f"it failed to {action}: {exc}") from exc
    except stripe.StripeError as exc:
        raise BillingError(f"Stripe refused to {action}: {exc.user_message or exc}") from exc


def _id(field: str | stripe.StripeObject | None) -> str:
    """The id of an expandable field, whether Stripe sent the id or the expanded object."""
    if field is None:
        return ""
    return field if isinstance(field, str) else str(field["id"])


def _when(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _day(timestamp: int) -> date:
    return _when(timestamp).date()


class StripeBilling:
    """`BillingConnector` for the Stripe account of ``api_key``.

    ``max_network_retries`` lets stripe-python retry connection errors and 409/5xx answers
    (POSTs are safe to retry: they always carry an idempotency key). ``scan_limit`` bounds the
    lists read to find a movement by its key's metadata.
    """

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str | None = None,
        timeout: float = 30.0,
        max_network_retries: int = 2,
        scan_limit: int = 300,
    ) -> None:
        self._http = stripe.AIOHTTPClient(timeout=timeout)
        self._stripe = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base or stripe.DEFAULT_API_BASE},
            http_client=self._http,
            max_network_retries=max_network_retries,
        ).v1
        self._scan_limit = scan_limit

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._http.close_async()  # type: ignore[no-untyped-call]

    # -- reading ------------------------------------------------------------------------------

    async def find_customer(self, query: str) -> Customer | None:
        """See `BillingConnector.find_customer` (Stripe's search API, case-insensitive)."""
        needle = query.strip()
        if not needle:
            return None
        if needle.startswith("cus_"):
            return await self.customer(needle)
        quoted = '"' + needle.replace("\\", "\\\\").replace('"', '\\"') + '"'
        clauses = [f"email:{quoted}"] if "@" in needle else [f"name~{quoted}"]
        clauses.append(f'metadata["company"]:{quoted}')
        with _translated("search customers"):
            found = await self._stripe.customers.search_async(
                params={
                    "query": " OR ".join(clauses),
                    "limit": 10,
                    "expand": ["data.subscriptions"],
                }
            )
        candidates = [_customer(c) for c in found.data if not c.get("deleted")]
        lowered = needle.lower()
        exact = [
            c for c in candidates if lowered in {c.email.lower(), c.company.lower(), c.name.lower()}
        ]
        matches = exact or candidates
        if len(matches) > 1:
            raise AmbiguousCustomerError(query, matches)
        return matches[0] if matches else None

    async def customer(self, customer_id: str) -> Customer | None:
        """See `BillingConnector.customer`."""
        try:
            with _translated("look up the customer", ("customer", customer_id)):
                found = await self._stripe.customers.retrieve_async(
                    customer_id, params={"expand": ["subscriptions"]}
                )
        except NotFoundError:
            return None
        return None if found.get("deleted") else _customer(found)

    async def invoices(self, customer_id: str) -> list[Invoice]:
        """See `BillingConnector.invoices`: the latest 100."""
        found, charges = await self._customer_records(customer_id)
        return [_invoice(inv, _charges_of(inv, charges)) for inv in found]

    async def invoice(self, invoice_id: str) -> Invoice | None:
        """See `BillingConnector.invoice`: by ``in_...`` id or by invoice number."""
        found = await self._find_invoice(invoice_id)
        if found is None:
            return None
        return _invoice(found, await self._invoice_charges(found))

    async def payments(
        self, *, invoice_id: str | None = None, customer_id: str | None = None
    ) -> list[Payment]:
        """See `BillingConnector.payments`: one Payment per charge attempt."""
        if invoice_id is not None:
            found = await self._find_invoice(invoice_id)
            if found is None:
                raise NotFoundError("invoice", invoice_id)
            pairs = [(c, found.id) for c in await self._invoice_charges(found)]
        elif customer_id is not None:
            invoices, charges = await self._customer_records(customer_id)
            owner = {c.id: inv.id for inv in invoices for c in _charges_of(inv, charges)}
            pairs = [(c, owner.get(c.id)) for c in charges]
        else:
            raise ValueError("payments() needs an invoice_id or a customer_id")
        if customer_id is not None:
            pairs = [(c, i) for c, i in pairs if _id(c.customer) == customer_id]
        pairs.sort(key=lambda pair: pair[0].created, reverse=True)
        return [_payment(charge, inv) for charge, inv in pairs]

    # -- moving money -------------------------------------------------------------------------

    async def refund(
        self, invoice_id: str, amount_cents: int, reason: str, idempotency_key: str
    ) -> MoneyMovement:
        """See `BillingConnector.refund`: refunds the invoice's charge with most left on it."""
        _check_amount(amount_cents)
        found = await self._find_invoice(invoice_id)
        if found is None:
            raise NotFoundError("invoice", invoice_id)
        found_id, customer_id = found.id or "", _id(found.customer)
        charges = [c for c in await self._invoice_charges(found) if c.status == "succeeded"]
        for charge in charges:
            existing = await self._keyed_refund(charge.id, idempotency_key)
            if existing is not None:
                movement = _refund_movement(existing, found_id, customer_id)
                return _same_or_conflict(movement, idempotency_key, found_id, amount_cents)
        best = max(charges, key=lambda c: c.amount - c.amount_refunded, default=None)
        left = best.amount - best.amount_refunded if best else 0
        if best is None or left < amount_cents:
            label = found.number or found_id
            raise RefundTooLargeError(label, amount_cents, left, found.currency.upper())
        metadata = {"idempotency_key": idempotency_key, "invoice_id": found_id}
        metadata |= {"customer_id": customer_id, "reason": reason[:500]}
        params: stripe.RefundService.CreateParams = {
            "charge": best.id,
            "amount": amount_cents,
            "metadata": metadata,
        }
        if reason in _STRIPE_REASONS:
            params["reason"] = reason  # type: ignore[typeddict-item]  # checked just above
        with _translated("refund the invoice"):
            refund = await self._stripe.refunds.create_async(
                params=params, options={"idempotency_key": idempotency_key}
            )
        return _refund_movement(refund, found_id, customer_id)

    async def credit(
        self, customer_id: str, amount_cents: int, reason: str, idempotency_key: str
    ) -> MoneyMovement:
        """See `BillingConnector.credit`: a customer balance transaction of ``-amount_cents``."""
        _check_amount(amount_cents)
        with _translated("look up the customer", ("customer", customer_id)):
            customer = await self._stripe.customers.retrieve_async(customer_id)
        if customer.get("deleted") or not customer.currency:
            raise BillingError(
                f"Customer {customer_id} has no billing currency yet (never invoiced), so Stripe "
                "cannot hold a credit for them; issue it once they have an invoice."
            )
        service = self._stripe.customers.balance_transactions
        existing = await self._keyed_credit(customer_id, idempotency_key)
        if existing is not None:
            return _same_or_conflict(existing, idempotency_key, customer_id, amount_cents)
        with _translated("credit the customer"):
            txn = await service.create_async(
                customer_id,
                params={
                    "amount": -amount_cents,
                    "currency": customer.currency,
                    "description": reason[:350],
                    "metadata": {"idempotency_key": idempotency_key, "reason": reason[:500]},
                },
                options={"idempotency_key": idempotency_key},
            )
        return _credit_movement(txn, customer_id)

    async def movement_for(
        self, idempotency_key: str, *, customer_id: str | None = None
    ) -> MoneyMovement | None:
        """See `BillingConnector.movement_for`: the latest refunds, then the customer's credits."""
        refund = await self._keyed_refund(None, idempotency_key)
        if refund is not None:
            meta = refund.metadata or {}
            return _refund_movement(refund, meta.get("invoice_id"), meta.get("customer_id", ""))
        if customer_id is not None:
            return await self._keyed_credit(customer_id, idempotency_key)
        return None

    # -- internals ----------------------------------------------------------------------------

    async def _find_invoice(self, invoice_id: str) -> stripe.Invoice | None:
        """The invoice by id (``in_...``) or printed number, with its payments expanded."""
        ident = invoice_id.strip()
        if ident.startswith("in_"):
            try:
                with _translated("look up the invoice", ("invoice", ident)):
                    return await self._stripe.invoices.retrieve_async(
                        ident, params={"expand": ["payments"]}
                    )
            except NotFoundError:
                return None
        quoted = '"' + ident.replace("\\", "\\\\").replace('"', '\\"') + '"'
        with _translated("search invoices"):
            found = await self._stripe.invoices.search_async(
                params={"query": f"number:{quoted}", "limit": 1, "expand": ["data.payments"]}
            )
        return found.data[0] if found.data else None

    async def _invoice_charges(self, found: stripe.Invoice) -> list[stripe.Charge]:
        """Every charge attempt behind the invoice's payments (usually one or two).

        Sequential on purpose: an invoice has few payments, and a TaskGroup would wrap a
        failure in an ExceptionGroup that callers would have to unwrap.
        """
        charges: list[stripe.Charge] = []
        with _translated("read the invoice's payments"):
            for kind, ident in _payment_refs(found):
                if kind == "payment_intent":
                    page = await self._stripe.charges.list_async(
                        params={"payment_intent": ident, "limit": 100}
                    )
                    charges.extend(page.data)
                else:
                    charges.append(await self._stripe.charges.retrieve_async(ident))
        return charges

    async def _customer_records(
        self, customer_id: str
    ) -> tuple[list[stripe.Invoice], list[stripe.Charge]]:
        """The customer's latest 100 invoices (payments expanded) and 100 charges: two requests
        instead of one per invoice, and `_charges_of` pairs them up."""
        with _translated("list the customer's invoices", ("customer", customer_id)):
            invoices = await self._stripe.invoices.list_async(
                params={"customer": customer_id, "limit": 100, "expand": ["data.payments"]}
            )
            charges = await self._stripe.charges.list_async(
                params={"customer": customer_id, "limit": 100}
            )
        return list(invoices.data), list(charges.data)

    async def _keyed_refund(self, charge_id: str | None, key: str) -> stripe.Refund | None:
        """The refund whose metadata holds ``key``: of one charge, or among the latest."""
        params: stripe.RefundService.ListParams = {"limit": 100}
        if charge_id is not None:
            params["charge"] = charge_id
        with _translated("list refunds"):
            page = await self._stripe.refunds.list_async(params=params)
            return await _scan(page, key, self._scan_limit)

    async def _keyed_credit(self, customer_id: str, key: str) -> MoneyMovement | None:
        service = self._stripe.customers.balance_transactions
        with _translated("list the customer's credits", ("customer", customer_id)):
            page = await service.list_async(customer_id, params={"limit": 100})
            txn = await _scan(page, key, self._scan_limit)
        return _credit_movement(txn, customer_id) if txn is not None else None


async def _scan(page: stripe.ListObject[_T], key: str, limit: int) -> _T | None:
    """Walk a Stripe list, newest first, for the object whose metadata holds ``key``."""
    seen = 0
    while True:
        for item in page.data:
            if (item.get("metadata") or {}).get("idempotency_key") == key:
                return item
        seen += len(page.data)
        if not page.has_more or seen >= limit:
            return None
        page = await page.next_page_async()


if TYPE_CHECKING:  # mypy checks here that the class implements the interface
    _conforms: type[BillingConnector] = StripeBilling


def _payment_refs(found: stripe.Invoice) -> list[tuple[str, str]]:
    """(kind, id) of what paid the invoice: ``payment_intent`` or, for old invoices, ``charge``."""
    payments = found.get("payments")
    refs: list[tuple[str, str]] = []
    for item in payments.data if payments else []:
        ref = item.payment
        if ref.type == "payment_intent" and ref.payment_intent:
            refs.append(("payment_intent", _id(ref.payment_intent)))
        elif ref.charge:
            refs.append(("charge", _id(ref.charge)))
    return refs


def _charges_of(found: stripe.Invoice, charges: list[stripe.Charge]) -> list[stripe.Charge]:
    """Pick the invoice's charges out of a list of the customer's charges."""
    refs = {ident for _, ident in _payment_refs(found)}
    return [c for c in charges if c.id in refs or _id(c.payment_intent) in refs]


def _check_amount(amount_cents: int) -> None:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise InvalidAmountError(amount_cents)


def _same_or_conflict(
    movement: MoneyMovement, key: str, target: str, amount_cents: int
) -> MoneyMovement:
    owner = movement.invoice_id if movement.kind == "refund" else movement.customer_id
    if owner != target or movement.amount_cents != amount_cents:
        raise IdempotencyConflictError(key, movement)
    return movement


def _customer(found: stripe.Customer) -> Customer:
    meta = found.metadata or {}
    subscriptions = found.get("subscriptions")
    first = subscriptions.data[0] if subscriptions and subscriptions.data else None
    plan = meta.get("plan", "")
    if not plan and first is not None:
        price = first["items"].data[0].price if first["items"].data else None
        plan = (price.nickname or price.lookup_key or price.id) if price else ""
    status = meta.get("status") or (first.status if first is not None else "no subscription")
    return Customer(
        id=found.id,
        name=found.name or "",
        company=meta.get("company") or found.description or found.name or "",
        email=found.email or "",
        plan=plan,
        currency=(found.currency or "").upper(),
        status=status,
    )


def _invoice(found: stripe.Invoice, charges: list[stripe.Charge]) -> Invoice:
    issued = found.status_transitions.finalized_at or found.created
    return Invoice(
        id=found.id or "",
        customer_id=_id(found.customer),
        amount_cents=found.total,
        currency=found.currency.upper(),
        status=found.status or "draft",
        period=Period(_day(found.period_start), _day(found.period_end)),
        issued=_day(issued),
        lines=tuple(InvoiceLine(line.description or "", line.amount) for line in found.lines.data),
        amount_refunded_cents=sum(c.amount_refunded for c in charges),
        amount_paid_cents=found.amount_paid,
        number=found.number or "",
    )


def _payment(charge: stripe.Charge, invoice_id: str | None) -> Payment:
    details = charge.payment_method_details
    kind = details.type if details else ""
    info = (details.get(kind) if details else None) or {}
    failure = charge.failure_message
    if failure and charge.failure_code:
        failure = f"{failure} ({charge.failure_code})"
    return Payment(
        id=charge.id,
        invoice_id=invoice_id,
        amount_cents=charge.amount,
        currency=charge.currency.upper(),
        status="refunded" if charge.refunded else charge.status,
        method=payment_method_label(kind, info.get("brand"), info.get("last4")),
        failure_reason=failure,
        created=_when(charge.created),
        amount_refunded_cents=charge.amount_refunded,
    )


def _refund_movement(
    refund: stripe.Refund, invoice_id: str | None, customer_id: str
) -> MoneyMovement:
    meta = refund.metadata or {}
    return MoneyMovement(
        id=refund.id,
        kind="refund",
        invoice_id=meta.get("invoice_id") or invoice_id,
        customer_id=meta.get("customer_id") or customer_id,
        amount_cents=refund.amount,
        currency=refund.currency.upper(),
        reason=meta.get("reason") or refund.reason or "",
        idempotency_key=meta.get("idempotency_key"),
        created=_when(refund.created),
        status=refund.status or "pending",
    )


def _credit_movement(txn: stripe.CustomerBalanceTransaction, customer_id: str) -> MoneyMovement:
    meta = txn.metadata or {}
    return MoneyMovement(
        id=txn.id,
        kind="credit",
        invoice_id=_id(txn.invoice) or None,
        customer_id=_id(txn.customer) or customer_id,
        amount_cents=-txn.amount,
        currency=txn.currency.upper(),
        reason=meta.get("reason") or txn.description or "",
        idempotency_key=meta.get("idempotency_key"),
        created=_when(txn.created),
        status="issued",
    )
