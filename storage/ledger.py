"""The demo billing ledger in SQLite: customers, invoices, payments, refunds and credits.

The demo's billing "system of record" is a JSON file (``agents/demo/ledger.json``). Refunds and
credits the demo makes must survive a restart and must never happen twice, so the file is
copied into SQLite on first open and every movement of money is written there, with the
idempotency key it was made under as a UNIQUE column: the database, not a check in Python, is
what stops a second refund for one approval, even across processes sharing the file.

This module knows SQL and nothing of the agents: the caller passes the seed as plain dicts (the
JSON's shape) and gets rows back as typed dicts. Amounts are integers in minor units (cents).

Give the ledger its own SQLite file (or ``:memory:``). It owns ``PRAGMA user_version`` there:
0 means "new, seed it"; another version means an older layout of demo data, which is dropped
and seeded again. A file that already holds other tables is refused rather than written into.

The API is synchronous and thread-safe (one connection behind a lock, as in
`storage.knowledge`); async callers run it with ``asyncio.to_thread``. Writes take
``BEGIN IMMEDIATE`` so that two processes cannot both read "not refunded yet" and both refund.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import string
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypedDict, cast

from storage.errors import StorageError
from storage.ledger_seed import create_and_seed

__all__ = [
    "CustomerRow",
    "IdempotencyKeyReusedError",
    "InvoiceRow",
    "LedgerError",
    "LedgerStore",
    "MovementRow",
    "OverRefundError",
    "PaymentRow",
    "UnknownRecordError",
]

_SCHEMA_VERSION = 1
_ID_ALPHABET = string.ascii_letters + string.digits
_COLLECTED = ("succeeded", "refunded")
_MIN_PARTIAL = 3


class LedgerError(StorageError):
    """Base of the ledger's errors; the billing connector turns them into billing errors."""


class UnknownRecordError(LedgerError):
    """No customer or invoice with that id."""

    def __init__(self, kind: str, ident: str) -> None:
        self.kind = kind
        self.ident = ident
        super().__init__(f"no {kind} {ident!r} in the ledger")


class OverRefundError(LedgerError):
    """A refund larger than what one payment of the invoice can still give back."""

    def __init__(self, invoice_id: str, refundable: int, currency: str) -> None:
        self.invoice_id = invoice_id
        self.refundable = refundable
        self.currency = currency
        super().__init__(f"only {refundable} {currency} of {invoice_id} can be refunded")


class CustomerRow(TypedDict):
    id: str
    name: str
    company: str
    email: str
    plan: str
    currency: str
    status: str
    created: str


class LineRow(TypedDict):
    description: str
    amount: int


class InvoiceRow(TypedDict):
    id: str
    customer_id: str
    status: str
    currency: str
    issued: str
    period_start: str
    period_end: str
    total: int
    amount_paid: int
    amount_refunded: int
    lines: list[LineRow]


class PaymentRow(TypedDict):
    id: str
    invoice_id: str
    customer_id: str
    amount: int
    currency: str
    status: str
    method: dict[str, str]
    failure_code: str | None
    failure_message: str | None
    created: str
    amount_refunded: int


class MovementRow(TypedDict):
    id: str
    kind: Literal["refund", "credit"]
    invoice_id: str | None
    payment_id: str | None
    customer_id: str
    amount: int
    currency: str
    reason: str
    idempotency_key: str | None
    created: str
    status: str


class IdempotencyKeyReusedError(LedgerError):
    """The key already made a movement with other arguments; ``existing`` is that movement."""

    def __init__(self, key: str, existing: MovementRow) -> None:
        self.key = key
        self.existing = existing
        super().__init__(f"idempotency key {key!r} already made {existing['id']}")


def _timestamp(moment: datetime) -> str:
    """The ledger's timestamp format, as in the JSON: UTC, seconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LedgerStore:
    """The demo ledger in the SQLite database at ``db_path``, seeded from ``seed`` when new.

    ``seed`` is the parsed ``ledger.json`` (its ``customers``, ``invoices``, ``payments``,
    ``refunds`` and ``credit_notes`` lists); it is read only when the database is new, so the
    refunds made since are kept across restarts.
    """

    def __init__(self, db_path: str | Path, seed: Mapping[str, Any]) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(db_path), check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._conn.execute("PRAGMA busy_timeout = 5000")
        try:
            self._ensure_schema(seed)
        except BaseException:
            self._conn.close()
            raise

    def close(self) -> None:
        """Close the connection. The object must not be used afterwards."""
        with self._lock:
            self._conn.close()

    # -- reading ------------------------------------------------------------------------------

    def customer(self, customer_id: str) -> CustomerRow | None:
        """The customer with this id, or None."""
        rows = self._read("SELECT * FROM customers WHERE id = ?", (customer_id,))
        return _customer_row(rows[0]) if rows else None

    def find_customers(self, query: str) -> list[CustomerRow]:
        """Customers matching ``query`` case-insensitively, the best kind of match only.

        Exact id, e-mail, company or contact name first; only if none match exactly, the
        customers whose company or name contains the query (three characters or more, since
        "a" is in every name). The caller decides what to do with several matches.
        """
        needle = query.strip().lower()
        if not needle:
            return []
        exact = self._read(
            "SELECT * FROM customers WHERE lower(id) = ? OR lower(email) = ? "
            "OR lower(company) = ? OR lower(name) = ? ORDER BY company",
            (needle,) * 4,
        )
        if exact or len(needle) < _MIN_PARTIAL:
            return [_customer_row(row) for row in exact]
        partial = self._read(
            "SELECT * FROM customers WHERE instr(lower(company), ?) > 0 "
            "OR instr(lower(name), ?) > 0 ORDER BY company",
            (needle, needle),
        )
        return [_customer_row(row) for row in partial]

    def invoices(self, customer_id: str) -> list[InvoiceRow]:
        """The customer's invoices, newest first; `UnknownRecordError` for an unknown customer."""
        with self._lock:
            self._require(self._conn, "customers", "customer", customer_id)
            rows = self._conn.execute(
                "SELECT * FROM invoices WHERE customer_id = ? ORDER BY issued DESC, id DESC",
                (customer_id,),
            ).fetchall()
        return [_invoice_row(row) for row in rows]

    def invoice(self, invoice_id: str) -> InvoiceRow | None:
        """The invoice with this id (case-insensitive, so "inv-1018" works), or None."""
        rows = self._read(
            "SELECT * FROM invoices WHERE id = ? COLLATE NOCASE",
            (invoice_id.strip(),),
        )
        return _invoice_row(rows[0]) if rows else None

    def payments(
        self, *, invoice_id: str | None = None, customer_id: str | None = None
    ) -> list[PaymentRow]:
        """Payment attempts of an invoice and/or a customer, newest first."""
        if invoice_id is None and customer_id is None:
            raise ValueError("payments() needs an invoice_id or a customer_id")
        with self._lock:
            if invoice_id is not None:
                self._require(self._conn, "invoices", "invoice", invoice_id)
            if customer_id is not None:
                self._require(self._conn, "customers", "customer", customer_id)
            rows = self._conn.execute(
                "SELECT * FROM payments "
                "WHERE (?1 IS NULL OR invoice_id = ?1 COLLATE NOCASE) "
                "AND (?2 IS NULL OR customer_id = ?2) ORDER BY created DESC, id",
                (invoice_id, customer_id),
            ).fetchall()
        return [_payment_row(row) for row in rows]

    def movement(self, idempotency_key: str) -> MovementRow | None:
        """The refund or credit made under this idempotency key, or None."""
        rows = self._read(
            "SELECT * FROM movements WHERE idempotency_key = ?",
            (idempotency_key,),
        )
        return _movement_row(rows[0]) if rows else None

    def movements(self, customer_id: str) -> list[MovementRow]:
        """The customer's refunds and credits, newest first."""
        rows = self._read(
            "SELECT * FROM movements WHERE customer_id = ? ORDER BY created DESC, id DESC",
            (customer_id,),
        )
        return [_movement_row(row) for row in rows]

    # -- moving money -------------------------------------------------------------------------

    def refund(
        self, invoice_id: str, amount: int, reason: str, idempotency_key: str, now: datetime
    ) -> MovementRow:
        """Refund ``amount`` of a paid invoice, once per ``idempotency_key``.

        In one transaction: the movement is inserted, and the payment's and the invoice's
        refunded amounts go up (status ``refunded`` once all of it went back). A key that
        already made this refund returns it; one that made something else raises
        `IdempotencyKeyReusedError`. `OverRefundError` if no payment has that much left.
        """
        with self._write() as conn:
            existing = self._existing(conn, idempotency_key, "refund", invoice_id, amount)
            if existing is not None:
                return existing
            invoice = self._require(conn, "invoices", "invoice", invoice_id)
            payments = conn.execute(
                "SELECT id, amount - amount_refunded AS remaining FROM payments "
                "WHERE invoice_id = ? AND status IN (?, ?) ORDER BY remaining DESC, created",
                (invoice["id"], *_COLLECTED),
            ).fetchall()
            if not payments or payments[0]["remaining"] < amount:
                refundable = payments[0]["remaining"] if payments else 0
                raise OverRefundError(invoice["id"], refundable, invoice["currency"])
            payment_id = payments[0]["id"]
            conn.execute(
                "UPDATE payments SET amount_refunded = amount_refunded + ?1, status = CASE "
                "WHEN amount_refunded + ?1 >= amount THEN 'refunded' ELSE status END WHERE id = ?2",
                (amount, payment_id),
            )
            conn.execute(
                "UPDATE invoices SET amount_refunded = amount_refunded + ?1, status = CASE "
                "WHEN amount_refunded + ?1 >= total THEN 'refunded' ELSE status END WHERE id = ?2",
                (amount, invoice["id"]),
            )
            movement = MovementRow(
                id="re_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(14)),
                kind="refund",
                invoice_id=invoice["id"],
                payment_id=payment_id,
                customer_id=invoice["customer_id"],
                amount=amount,
                currency=invoice["currency"],
                reason=reason,
                idempotency_key=idempotency_key,
                created=_timestamp(now),
                status="succeeded",
            )
            return self._insert_movement(conn, movement)

    def credit(
        self, customer_id: str, amount: int, reason: str, idempotency_key: str, now: datetime
    ) -> MovementRow:
        """Credit ``amount`` to the customer's account as a credit note, once per key.

        Credit notes are numbered on from the ledger's last (``CN-0003`` after ``CN-0002``),
        so they read like the ones finance issued by hand.
        """
        with self._write() as conn:
            existing = self._existing(conn, idempotency_key, "credit", customer_id, amount)
            if existing is not None:
                return existing
            customer = self._require(conn, "customers", "customer", customer_id)
            row = conn.execute(
                "SELECT max(CAST(substr(id, 4) AS INTEGER)) FROM movements WHERE id LIKE 'CN-%'"
            ).fetchone()
            movement = MovementRow(
                id=f"CN-{(row[0] or 0) + 1:04d}",
                kind="credit",
                invoice_id=None,
                payment_id=None,
                customer_id=customer["id"],
                amount=amount,
                currency=customer["currency"],
                reason=reason,
                idempotency_key=idempotency_key,
                created=_timestamp(now),
                status="issued",
            )
            return self._insert_movement(conn, movement)

    # -- internals ----------------------------------------------------------------------------

    def _read(self, sql: str, params: tuple[object, ...]) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken with ``BEGIN IMMEDIATE`` so that the reads inside it
        (is the key used? how much is left?) cannot be raced by another process."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @staticmethod
    def _require(conn: sqlite3.Connection, table: str, kind: str, ident: str) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute(
            f"SELECT * FROM {table} WHERE id = ? COLLATE NOCASE",  # noqa: S608 (fixed names)
            (ident.strip(),),
        ).fetchone()
        if row is None:
            raise UnknownRecordError(kind, ident)
        return row

    @staticmethod
    def _existing(
        conn: sqlite3.Connection, key: str, kind: str, target: str, amount: int
    ) -> MovementRow | None:
        row = conn.execute(
            "SELECT * FROM movements WHERE idempotency_key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        existing = _movement_row(row)
        target_column = existing["invoice_id"] if kind == "refund" else existing["customer_id"]
        same_target = (target_column or "").lower() == target.strip().lower()
        if existing["kind"] != kind or not same_target or existing["amount"] != amount:
            raise IdempotencyKeyReusedError(key, existing)
        return existing

    @staticmethod
    def _insert_movement(conn: sqlite3.Connection, movement: MovementRow) -> MovementRow:
        conn.execute(
            "INSERT INTO movements VALUES (:id, :kind, :invoice_id, :payment_id, :customer_id, "
            ":amount, :currency, :reason, :idempotency_key, :created, :status)",
            dict(movement),
        )
        return movement

    def _ensure_schema(self, seed: Mapping[str, Any]) -> None:
        with self._write() as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version == _SCHEMA_VERSION:
                return
            if version == 0:
                names = conn.execute(
                    "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
                ).fetchall()
                if names:
                    raise LedgerError(
                        "The demo ledger's database file already holds other tables "
                        f"({', '.join(sorted(r[0] for r in names))}); give the ledger a file "
                        "of its own."
                    )
            create_and_seed(conn, seed)
            conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")


def _customer_row(row: sqlite3.Row) -> CustomerRow:
    return cast(CustomerRow, dict(row))


def _invoice_row(row: sqlite3.Row) -> InvoiceRow:
    return cast(InvoiceRow, {**dict(row), "lines": json.loads(row["lines"])})


def _payment_row(row: sqlite3.Row) -> PaymentRow:
    return cast(PaymentRow, {**dict(row), "method": json.loads(row["method"])})


def _movement_row(row: sqlite3.Row) -> MovementRow:
    return cast(MovementRow, dict(row))
