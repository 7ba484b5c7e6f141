"""The default billing connector: the demo ledger, kept in SQLite by `storage.ledger`.

It lives in `bot/` because it joins two packages that may not know each other: it implements
the agents' `BillingConnector` over storage's `LedgerStore` (agents never import storage).

Switchboard runs with no billing account configured, so the billing agent needs a ledger that
behaves like a real one: refunds that stick, a refund that cannot exceed what was paid, and
an idempotency key that makes a retried refund a no-op. This connector is that ledger over the
made-up data of ``agents/demo/ledger.json`` (see ``agents/demo/README.md`` for its stories).

The SQL lives in `storage.ledger`; this module loads the JSON, maps rows to the billing
dataclasses and storage errors to billing errors, and runs the synchronous store in a worker
thread so that the event loop never waits on SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.connectors.billing import (
    AmbiguousCustomerError,
    BillingConnector,
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
from agents.demo import load_demo_seed
from storage.ledger import (
    CustomerRow,
    IdempotencyKeyReusedError,
    InvoiceRow,
    LedgerStore,
    MovementRow,
    OverRefundError,
    PaymentRow,
    UnknownRecordError,
)

__all__ = ["DemoLedger"]


class DemoLedger:
    """`BillingConnector` over the demo ledger in the SQLite file ``db_path``.

    The file is seeded from ``seed`` (by default the packaged ``ledger.json``) the first time
    it is opened; later opens keep the refunds and credits made since. ``:memory:`` gives a
    fresh ledger per object, which is what tests want. ``clock`` stamps new movements.
    """

    def __init__(
        self,
        db_path: str | Path = ":memory:",
        *,
        seed: Mapping[str, Any] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = LedgerStore(db_path, seed if seed is not None else load_demo_seed())
        self._clock = clock

    async def close(self) -> None:
        """Close the SQLite connection."""
        await asyncio.to_thread(self._store.close)

    async def find_customer(self, query: str) -> Customer | None:
        """See `BillingConnector.find_customer`."""
        rows = await asyncio.to_thread(self._store.find_customers, query)
        if len(rows) > 1:
            raise AmbiguousCustomerError(query, [_customer(row) for row in rows])
        return _customer(rows[0]) if rows else None

    async def customer(self, customer_id: str) -> Customer | None:
        """See `BillingConnector.customer`."""
        row = await asyncio.to_thread(self._store.customer, customer_id)
        return _customer(row) if row else None

    async def invoices(self, customer_id: str) -> list[Invoice]:
        """See `BillingConnector.invoices`."""
        with _connector_errors():
            rows = await asyncio.to_thread(self._store.invoices, customer_id)
        return [_invoice(row) for row in rows]

    async def invoice(self, invoice_id: str) -> Invoice | None:
        """See `BillingConnector.invoice`."""
        row = await asyncio.to_thread(self._store.invoice, invoice_id)
        return _invoice(row) if row else None

    async def payments(
        self, *, invoice_id: str | None = None, customer_id: str | None = None
    ) -> list[Payment]:
        """See `BillingConnector.payments`."""
        with _connector_errors():
            rows = await asyncio.to_thread(
                lambda: self._store.payments(invoice_id=invoice_id, customer_id=customer_id)
            )
        return [_payment(row) for row in rows]

    async def refund(
        self, invoice_id: str, amount_cents: int, reason: str, idempotency_key: str
    ) -> MoneyMovement:
        """See `BillingConnector.refund`."""
        _check_amount(amount_cents)
        now = self._clock()
        with _connector_errors(amount_cents):
            row = await asyncio.to_thread(
                self._store.refund, invoice_id, amount_cents, reason, idempotency_key, now
            )
        return _movement(row)

    async def credit(
        self, customer_id: str, amount_cents: int, reason: str, idempotency_key: str
    ) -> MoneyMovement:
        """See `BillingConnector.credit`."""
        _check_amount(amount_cents)
        now = self._clock()
        with _connector_errors(amount_cents):
            row = await asyncio.to_thread(
                self._store.credit, customer_id, amount_cents, reason, idempotency_key, now
            )
        return _movement(row)

    async def movement_for(
        self, idempotency_key: str, *, customer_id: str | None = None
    ) -> MoneyMovement | None:
        """See `BillingConnector.movement_for`; the key alone finds it here."""
        row = await asyncio.to_thread(self._store.movement, idempotency_key)
        return _movement(row) if row else None

    async def movements(self, customer_id: str) -> list[MoneyMovement]:
        """The customer's refunds and credits, newest first (the seed's and ours)."""
        rows = await asyncio.to_thread(self._store.movements, customer_id)
        return [_movement(row) for row in rows]


if TYPE_CHECKING:  # mypy checks here that the class implements the interface
    _conforms: type[BillingConnector] = DemoLedger


@contextlib.contextmanager
def _connector_errors(amount_cents: int = 0) -> Iterator[None]:
    """The ledger's errors as the billing connector's, the ones the agents are written against."""
    try:
        yield
    except UnknownRecordError as exc:
        raise NotFoundError(exc.kind, exc.ident) from exc
    except OverRefundError as exc:
        raise RefundTooLargeError(
            exc.invoice_id, amount_cents, exc.refundable, exc.currency
        ) from exc
    except IdempotencyKeyReusedError as exc:
        raise IdempotencyConflictError(exc.key, _movement(exc.existing)) from exc


def _check_amount(amount_cents: int) -> None:
    # bool is an int; a float would be a bug upstream (money is never a float here).
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise InvalidAmountError(amount_cents)


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _customer(row: CustomerRow) -> Customer:
    return Customer(
        id=row["id"],
        name=row["name"],
        company=row["company"],
        email=row["email"],
        plan=row["plan"],
        currency=row["currency"],
        status=row["status"],
    )


def _invoice(row: InvoiceRow) -> Invoice:
    return Invoice(
        id=row["id"],
        customer_id=row["customer_id"],
        amount_cents=row["total"],
        currency=row["currency"],
        status=row["status"],
        period=Period(
            date.fromisoformat(row["period_start"]), date.fromisoformat(row["period_end"])
        ),
        issued=date.fromisoformat(row["issued"]),
        lines=tuple(InvoiceLine(line["description"], line["amount"]) for line in row["lines"]),
        amount_refunded_cents=row["amount_refunded"],
        amount_paid_cents=row["amount_paid"],
        number=row["id"],
    )


def _payment(row: PaymentRow) -> Payment:
    failure = row["failure_message"]
    if failure and row["failure_code"]:
        failure = f"{failure} ({row['failure_code']})"
    return Payment(
        id=row["id"],
        invoice_id=row["invoice_id"],
        amount_cents=row["amount"],
        currency=row["currency"],
        status=row["status"],
        method=payment_method_label(
            row["method"].get("type", ""), row["method"].get("brand"), row["method"].get("last4")
        ),
        failure_reason=failure,
        created=_parse_time(row["created"]),
        amount_refunded_cents=row["amount_refunded"],
    )


def _movement(row: MovementRow) -> MoneyMovement:
    return MoneyMovement(
        id=row["id"],
        kind=row["kind"],
        invoice_id=row["invoice_id"],
        customer_id=row["customer_id"],
        amount_cents=row["amount"],
        currency=row["currency"],
        reason=row["reason"],
        idempotency_key=row["idempotency_key"],
        created=_parse_time(row["created"]),
        status=row["status"],
    )
