"""The demo ledger's SQLite store: seeding, money movements, idempotency, concurrency.

Real SQLite files, never mocks: the UNIQUE idempotency key and ``BEGIN IMMEDIATE`` are what
stop a double refund, so the tests race real connections against one file.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

import pytest

from storage.ledger import (
    IdempotencyKeyReusedError,
    LedgerError,
    LedgerStore,
    MovementRow,
    OverRefundError,
    UnknownRecordError,
)

SEED: dict[str, Any] = json.loads((files("agents.demo") / "ledger.json").read_text("utf-8"))
NOW = datetime(2026, 4, 7, 12, 0, tzinfo=UTC)
HELIX = "cus_N7kQ2mLp4RtV"
T = TypeVar("T")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[LedgerStore]:
    ledger = LedgerStore(db_path, SEED)
    yield ledger
    ledger.close()


def _race(count: int, work: Callable[[int], T]) -> list[T | Exception]:
    """Run ``work(i)`` in ``count`` threads released together; each result or its error."""
    barrier = threading.Barrier(count)
    results: list[T | Exception] = [RuntimeError("not run")] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_first_open_seeds_every_record(store: LedgerStore) -> None:
    assert store.customer(HELIX) is not None
    all_invoices = [i for c in SEED["customers"] for i in store.invoices(c["id"])]
    assert sorted(i["id"] for i in all_invoices) == [f"INV-{n}" for n in range(1001, 1041)]
    payments = [p for c in SEED["customers"] for p in store.payments(customer_id=c["id"])]
    assert len(payments) == len(SEED["payments"])
    seeded = [m for c in SEED["customers"] for m in store.movements(c["id"])]
    assert sorted(m["id"] for m in seeded) == sorted(
        [r["id"] for r in SEED["refunds"]] + [c["id"] for c in SEED["credit_notes"]]
    )
    assert all(m["idempotency_key"] is None for m in seeded)


def test_rows_keep_the_seed_values(store: LedgerStore) -> None:
    invoice = store.invoice("inv-1022")  # ids are matched case-insensitively
    assert invoice is not None and invoice["id"] == "INV-1022"
    assert [line["amount"] for line in invoice["lines"]] == [-9950, 24950]
    [failed, paid] = sorted(store.payments(invoice_id="INV-1026"), key=lambda p: p["created"])
    assert failed["failure_code"] == "expired_card" and failed["method"]["last4"] == "0341"
    assert paid["failure_code"] is None and paid["status"] == "succeeded"


def test_find_customers_prefers_exact_matches(store: LedgerStore) -> None:
    assert [c["id"] for c in store.find_customers("HELIX ANALYTICS")] == [HELIX]
    assert [c["id"] for c in store.find_customers("priya.raman@helix-analytics.example")] == [HELIX]
    assert [c["id"] for c in store.find_customers("Priya Raman")] == [HELIX]
    assert [c["id"] for c in store.find_customers("helix")] == [HELIX]  # part of a name
    assert len(store.find_customers("studio")) == 2  # Studio Brightline, Mizuki Design Studio
    assert store.find_customers("ab") == []  # too short to match part of a name
    assert store.find_customers("  ") == []


def test_refund_moves_money_on_payment_and_invoice(store: LedgerStore) -> None:
    movement = store.refund("INV-1018", 19900, "duplicate subscription", "approval-1", NOW)
    assert movement["id"].startswith("re_") and len(movement["id"]) == 17
    assert (movement["kind"], movement["invoice_id"], movement["customer_id"]) == (
        "refund", "INV-1018", HELIX,
    )  # fmt: skip
    assert movement["created"] == "2026-04-07T12:00:00Z" and movement["status"] == "succeeded"
    invoice = store.invoice("INV-1018")
    assert invoice is not None and (invoice["status"], invoice["amount_refunded"]) == (
        "refunded",
        19900,
    )
    [payment] = store.payments(invoice_id="INV-1018")
    assert (payment["status"], payment["amount_refunded"]) == ("refunded", 19900)
    assert payment["id"] == movement["payment_id"]


def test_partial_refund_keeps_the_invoice_paid(store: LedgerStore) -> None:
    store.refund("INV-1033", 50000, "partial", "k-1", NOW)
    invoice = store.invoice("INV-1033")
    assert invoice is not None and invoice["status"] == "paid"
    assert invoice["amount_refunded"] == 50000
    with pytest.raises(OverRefundError) as info:
        store.refund("INV-1033", invoice["total"], "the rest and more", "k-2", NOW)
    assert info.value.refundable == invoice["total"] - 50000


def test_refund_of_unpaid_or_unknown_invoices(store: LedgerStore) -> None:
    with pytest.raises(OverRefundError) as info:
        store.refund("INV-1036", 100, "open invoice", "k-1", NOW)  # dunning, nothing collected
    assert info.value.refundable == 0
    with pytest.raises(UnknownRecordError, match="INV-9999"):
        store.refund("INV-9999", 100, "x", "k-2", NOW)
    assert store.movement("k-1") is None and store.movement("k-2") is None


def test_idempotency_key_returns_the_first_movement(store: LedgerStore) -> None:
    first = store.refund("INV-1024", 18500, "charged after cancellation", "approval-2", NOW)
    again = store.refund("INV-1024", 18500, "charged after cancellation", "approval-2", NOW)
    assert again == first == store.movement("approval-2")
    with pytest.raises(IdempotencyKeyReusedError) as info:
        store.refund("INV-1024", 100, "other amount", "approval-2", NOW)
    assert info.value.existing == first
    with pytest.raises(IdempotencyKeyReusedError):
        store.credit(HELIX, 18500, "a credit under a refund's key", "approval-2", NOW)


def test_credits_are_numbered_after_the_seed(store: LedgerStore) -> None:
    first = store.credit(HELIX, 2500, "goodwill", "credit-1", NOW)
    second = store.credit(HELIX, 1000, "more goodwill", "credit-2", NOW)
    assert (first["id"], second["id"]) == ("CN-0003", "CN-0004")
    assert (first["currency"], first["status"], first["invoice_id"]) == ("USD", "issued", None)
    assert store.credit(HELIX, 2500, "goodwill", "credit-1", NOW) == first
    with pytest.raises(UnknownRecordError):
        store.credit("cus_nobody", 100, "x", "credit-3", NOW)


def test_reopening_keeps_refunds_and_does_not_reseed(db_path: Path) -> None:
    with_refund = LedgerStore(db_path, SEED)
    made = with_refund.refund("INV-1018", 19900, "duplicate", "approval-3", NOW)
    with_refund.close()
    reopened = LedgerStore(db_path, {})  # an empty seed would fail if it were read
    try:
        assert reopened.movement("approval-3") == made
        invoice = reopened.invoice("INV-1018")
        assert invoice is not None and invoice["status"] == "refunded"
    finally:
        reopened.close()


def test_an_older_layout_is_dropped_and_seeded_again(db_path: Path) -> None:
    LedgerStore(db_path, SEED).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA user_version = 999")
        conn.execute("DELETE FROM movements")
    conn.close()
    store = LedgerStore(db_path, SEED)
    try:
        assert len(store.movements("cus_J1sD7gHa3KpE")) == 1  # INV-1007's refund is back
    finally:
        store.close()


def test_a_file_with_other_tables_is_refused(db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE approvals (id INTEGER PRIMARY KEY)")
    conn.close()
    with pytest.raises(LedgerError, match=r"approvals.*a file of its own"):
        LedgerStore(db_path, SEED)


def test_payments_needs_a_filter_and_known_records(store: LedgerStore) -> None:
    with pytest.raises(ValueError, match="invoice_id or a customer_id"):
        store.payments()
    with pytest.raises(UnknownRecordError, match="customer"):
        store.payments(customer_id="cus_nobody")
    with pytest.raises(UnknownRecordError, match="customer"):
        store.invoices("cus_nobody")


def test_racing_processes_make_one_refund_per_key(db_path: Path) -> None:
    """Eight connections (as eight replicas would have) refund under one key at once."""
    stores = [LedgerStore(db_path, SEED) for _ in range(8)]
    try:
        results = _race(8, lambda i: stores[i].refund("INV-1018", 19900, "dup", "same-key", NOW))
        movements = [r for r in results if not isinstance(r, Exception)]
        assert len(movements) == 8, results
        assert len({m["id"] for m in movements}) == 1
        assert len(stores[0].movements(HELIX)) == 1
    finally:
        for store in stores:
            store.close()


def test_racing_refunds_cannot_overdraw_an_invoice(db_path: Path) -> None:
    """Different keys, each for the whole invoice: exactly one wins, the rest are too large."""
    stores = [LedgerStore(db_path, SEED) for _ in range(6)]
    try:
        results = _race(6, lambda i: stores[i].refund("INV-1024", 18500, "x", f"key-{i}", NOW))
        won: list[MovementRow] = [r for r in results if not isinstance(r, Exception)]
        assert len(won) == 1, results
        assert all(isinstance(r, OverRefundError) for r in results if isinstance(r, Exception))
        invoice = stores[0].invoice("INV-1024")
        assert invoice is not None and invoice["amount_refunded"] == 18500
    finally:
        for store in stores:
            store.close()
