"""The billing interface: what the billing agent may read and do, whoever keeps the ledger.

The billing specialist and its tools talk only to `BillingConnector`. Two implementations
exist: `bot.doors.demo_ledger.DemoLedger` (the default, a SQLite copy of
``agents/demo/ledger.json``, in `bot/` because `storage` keeps it) and
`stripe_billing.StripeBilling`. Records cross this boundary as the frozen dataclasses below, so
no Stripe object or SQL row leaks into an agent's reply.

Money is always an integer amount in the currency's minor unit (cents for USD and EUR), as in
the ledger and in Stripe: floats round, and a refund that is off by a cent is a support ticket.
`format_money` is the one place that turns an amount into text for people.

Refunds and credits carry an idempotency key, because they run after a human approval and a
crash between "approval claimed" and "refund recorded" must never pay twice: calling `refund`
or `credit` again with the same key returns the movement already made, and `movement_for`
answers "did it happen?" at start-up without doing anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, NamedTuple, Protocol

from agents.connectors import ConnectorError

__all__ = [
    "AmbiguousCustomerError",
    "BillingConnector",
    "BillingError",
    "ConnectorUnavailable",
    "ConnectorUnavailableError",
    "Customer",
    "IdempotencyConflictError",
    "InvalidAmountError",
    "Invoice",
    "InvoiceLine",
    "MoneyMovement",
    "MovementKind",
    "NotFound",
    "NotFoundError",
    "Payment",
    "Period",
    "RefundTooLarge",
    "RefundTooLargeError",
    "format_money",
    "payment_method_label",
]

MovementKind = Literal["refund", "credit"]

# Symbols written before the amount; any other currency is written "1,234.50 CHF".
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}
# Currencies whose smallest unit is the whole unit (Stripe's "zero-decimal" list, abridged).
_ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "HUF", "TWD", "UGX", "XAF", "XOF"})
_METHOD_NAMES = {"sepa_debit": "SEPA debit", "us_bank_account": "bank account", "link": "Link"}


def format_money(cents: int, currency: str) -> str:
    """Write an amount in minor units for people: ``format_money(12000, "USD") == "$120.00"``.

    Thousands are grouped ("$4,990.00") and a negative amount puts the sign first ("-€25.00"),
    which is how a credit line reads on an invoice. Zero-decimal currencies such as JPY have no
    minor unit, so their amount is already whole.
    """
    code = currency.upper()
    sign = "-" if cents < 0 else ""
    if code in _ZERO_DECIMAL:
        number = f"{abs(cents):,}"
    else:
        whole, minor = divmod(abs(cents), 100)
        number = f"{whole:,}.{minor:02d}"
    symbol = _SYMBOLS.get(code)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {code}"


def payment_method_label(kind: str, brand: str | None, last4: str | None) -> str:
    """How a person names a payment method: "visa •••• 4242", "SEPA debit •••• 3310".

    The last four digits are what a customer can check against their statement; the rest of
    the card is never in the ledger.
    """
    name = (brand or "card") if kind == "card" else _METHOD_NAMES.get(kind, kind or "unknown")
    return f"{name} •••• {last4}" if last4 else name


@dataclass(frozen=True, slots=True, kw_only=True)
class Customer:
    """A paying account. ``company`` is what support staff call it; ``name`` is the contact."""

    id: str
    name: str
    company: str
    email: str
    plan: str
    currency: str
    status: str


class InvoiceLine(NamedTuple):
    """One line of an invoice; a negative amount is a discount, proration or applied credit."""

    description: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class Period:
    """The service period an invoice bills for, end exclusive (as Stripe reports it)."""

    start: date
    end: date

    def __str__(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Invoice:
    """An invoice and what happened to its money.

    ``amount_cents`` is the total billed, ``amount_paid_cents`` what was collected and
    ``amount_refunded_cents`` what went back, so `refundable_cents` is what a refund may still
    return. ``number`` is the number printed on the invoice; for the demo ledger it equals
    ``id``, for Stripe the ``id`` is ``in_...`` and customers quote the number.
    """

    id: str
    customer_id: str
    amount_cents: int
    currency: str
    status: str
    period: Period
    issued: date
    lines: tuple[InvoiceLine, ...]
    amount_refunded_cents: int
    amount_paid_cents: int
    number: str = ""

    @property
    def refundable_cents(self) -> int:
        """What can still be refunded: collected money that has not gone back yet."""
        return max(self.amount_paid_cents - self.amount_refunded_cents, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Payment:
    """One attempt to collect money; a failed attempt says why in ``failure_reason``."""

    id: str
    invoice_id: str | None
    amount_cents: int
    currency: str
    status: str
    method: str
    failure_reason: str | None
    created: datetime
    amount_refunded_cents: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class MoneyMovement:
    """Money given back: a refund to the payment method or a credit on the customer's account.

    ``idempotency_key`` is the key the movement was made under (None for movements that
    predate this bot, such as the seed ledger's), so an approval can find its own refund again.
    """

    id: str
    kind: MovementKind
    invoice_id: str | None
    customer_id: str
    amount_cents: int
    currency: str
    reason: str
    idempotency_key: str | None
    created: datetime
    status: str

    def describe(self) -> str:
        """A one-line summary for a reply: "Refund re_123 of $120.00 on INV-1018 (succeeded)"."""
        target = f"on {self.invoice_id}" if self.invoice_id else f"to {self.customer_id}"
        amount = format_money(self.amount_cents, self.currency)
        return f"{self.kind.capitalize()} {self.id} of {amount} {target} ({self.status})"


class BillingError(ConnectorError):
    """Base of the billing errors; the message is fit to show to a support agent."""


class NotFoundError(BillingError):
    """The customer, invoice or movement asked for does not exist in the ledger."""

    def __init__(self, kind: str, ident: str) -> None:
        self.kind = kind
        self.ident = ident
        super().__init__(f"No {kind} {ident!r} in the billing ledger; check the id and try again.")


class AmbiguousCustomerError(BillingError):
    """A customer search matched several customers; acting on a guess could refund the wrong one."""

    def __init__(self, query: str, candidates: Sequence[Customer]) -> None:
        self.query = query
        self.candidates = tuple(candidates)
        names = ", ".join(f"{c.company} ({c.id})" for c in self.candidates)
        super().__init__(f"{query!r} matches {len(self.candidates)} customers: {names}. Say which.")


class RefundTooLargeError(BillingError):
    """A refund asked for more than the invoice still has to give back."""

    def __init__(
        self, invoice_id: str, requested_cents: int, refundable_cents: int, currency: str
    ) -> None:
        self.invoice_id = invoice_id
        self.requested_cents = requested_cents
        self.refundable_cents = refundable_cents
        self.currency = currency
        requested = format_money(requested_cents, currency)
        refundable = format_money(refundable_cents, currency)
        why = (
            "what was paid, less what was refunded already"
            if refundable_cents
            else "it was never paid, or was refunded in full already"
        )
        super().__init__(
            f"Cannot refund {requested} on {invoice_id}: only {refundable} can be refunded ({why})."
        )


class InvalidAmountError(BillingError):
    """An amount that cannot be moved: zero, negative, or not in whole minor units."""

    def __init__(self, amount_cents: int) -> None:
        self.amount_cents = amount_cents
        super().__init__(
            f"The amount must be a positive whole number of cents; got {amount_cents}."
        )


class IdempotencyConflictError(BillingError):
    """An idempotency key already made a different movement; reusing it would hide a mistake."""

    def __init__(self, idempotency_key: str, existing: MoneyMovement) -> None:
        self.idempotency_key = idempotency_key
        self.existing = existing
        super().__init__(
            f"Idempotency key {idempotency_key!r} was already used for a different movement: "
            f"{existing.describe()}. Use a new key for a new refund or credit."
        )


class ConnectorUnavailableError(BillingError):
    """The billing system could not be reached or refused our credentials; nothing was changed
    that we know of, and `movement_for` can tell after the fact."""

    def __init__(self, provider: str, detail: str) -> None:
        self.provider = provider
        self.detail = detail
        super().__init__(f"{provider} is unavailable: {detail}")


# The short names the first design used; the ``Error`` suffix is the package's convention.
NotFound = NotFoundError
RefundTooLarge = RefundTooLargeError
ConnectorUnavailable = ConnectorUnavailableError


class BillingConnector(Protocol):
    """The one door to the billing ledger. Every method is async and raises `BillingError`."""

    async def find_customer(self, query: str) -> Customer | None:
        """Find a customer by id (``cus_...``), e-mail, or company or contact name.

        Case-insensitive. An exact match wins; otherwise a part of a name must match one
        customer only, or `AmbiguousCustomerError` lists the candidates. None if nothing matches.
        """
        ...

    async def customer(self, customer_id: str) -> Customer | None:
        """The customer with this id, or None."""
        ...

    async def invoices(self, customer_id: str) -> list[Invoice]:
        """The customer's invoices, newest first; `NotFoundError` for an unknown customer."""
        ...

    async def invoice(self, invoice_id: str) -> Invoice | None:
        """The invoice with this id (or, for Stripe, this invoice number), or None."""
        ...

    async def payments(
        self, *, invoice_id: str | None = None, customer_id: str | None = None
    ) -> list[Payment]:
        """Payment attempts of an invoice or of a customer (at least one filter), newest first."""
        ...

    async def refund(
        self, invoice_id: str, amount_cents: int, reason: str, idempotency_key: str
    ) -> MoneyMovement:
        """Refund part or all of a paid invoice to the method that paid it.

        The same ``idempotency_key`` returns the movement already made instead of a second
        one; with other arguments it raises `IdempotencyConflictError`. More than
        `Invoice.refundable_cents` raises `RefundTooLargeError`.
        """
        ...

    async def credit(
        self, customer_id: str, amount_cents: int, reason: str, idempotency_key: str
    ) -> MoneyMovement:
        """Credit the customer's account, used up by their next invoices; idempotent as `refund`."""
        ...

    async def movement_for(
        self, idempotency_key: str, *, customer_id: str | None = None
    ) -> MoneyMovement | None:
        """The refund or credit made under this key, or None if none was made.

        Used at start-up to settle an approval whose execution is unknown: if a movement exists
        it happened, and the tool must not run again. ``customer_id`` is a hint for ledgers
        that cannot search credits account-wide (Stripe); pass it when you know it.
        """
        ...

    async def close(self) -> None:
        """Release connections; the connector must not be used afterwards."""
        ...
