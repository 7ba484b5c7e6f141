"""The demo ledger's tables, and the JSON ledger's records copied into them.

Kept apart from `storage.ledger` (the queries and the money movements) because it runs once
per file: on first open, or when the demo data's layout changed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

_SCHEMA = (
    "CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT NOT NULL, company TEXT NOT NULL, "
    "email TEXT NOT NULL, plan TEXT NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL, "
    "created TEXT NOT NULL)",
    "CREATE TABLE invoices (id TEXT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers, "
    "status TEXT NOT NULL, currency TEXT NOT NULL, issued TEXT NOT NULL, "
    "period_start TEXT NOT NULL, period_end TEXT NOT NULL, total INTEGER NOT NULL, "
    "amount_paid INTEGER NOT NULL, amount_refunded INTEGER NOT NULL, lines TEXT NOT NULL)",
    "CREATE INDEX invoices_by_customer ON invoices (customer_id, issued)",
    "CREATE TABLE payments (id TEXT PRIMARY KEY, invoice_id TEXT NOT NULL REFERENCES invoices, "
    "customer_id TEXT NOT NULL REFERENCES customers, amount INTEGER NOT NULL, "
    "currency TEXT NOT NULL, status TEXT NOT NULL, method TEXT NOT NULL, failure_code TEXT, "
    "failure_message TEXT, created TEXT NOT NULL, amount_refunded INTEGER NOT NULL)",
    "CREATE INDEX payments_by_invoice ON payments (invoice_id, created)",
    "CREATE INDEX payments_by_customer ON payments (customer_id, created)",
    "CREATE TABLE movements (id TEXT PRIMARY KEY, "
    "kind TEXT NOT NULL CHECK (kind IN ('refund', 'credit')), invoice_id TEXT REFERENCES invoices, "
    "payment_id TEXT REFERENCES payments, customer_id TEXT NOT NULL REFERENCES customers, "
    "amount INTEGER NOT NULL CHECK (amount > 0), currency TEXT NOT NULL, reason TEXT NOT NULL, "
    "idempotency_key TEXT UNIQUE, created TEXT NOT NULL, status TEXT NOT NULL)",
)
_TABLES = ("movements", "payments", "invoices", "customers")


def create_and_seed(conn: sqlite3.Connection, seed: Mapping[str, Any]) -> None:
    """(Re)create the tables and copy the seed into them (the caller holds a transaction)."""
    for table in _TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    for statement in _SCHEMA:
        conn.execute(statement)
    _seed(conn, seed)


def _seed(conn: sqlite3.Connection, seed: Mapping[str, Any]) -> None:
    """Copy the JSON ledger's records into the tables (the caller holds a transaction)."""
    conn.executemany(
        "INSERT INTO customers VALUES (:id, :name, :company, :email, :plan, :currency, "
        ":status, :created)",
        seed["customers"],
    )
    invoices = [
        {
            **invoice,
            "period_start": invoice["period"]["start"],
            "period_end": invoice["period"]["end"],
            "lines": json.dumps(
                [{"description": x["description"], "amount": x["amount"]} for x in invoice["lines"]]
            ),
        }
        for invoice in seed["invoices"]
    ]
    conn.executemany(
        "INSERT INTO invoices VALUES (:id, :customer, :status, :currency, :issued, "
        ":period_start, :period_end, :total, :amount_paid, :amount_refunded, :lines)",
        invoices,
    )
    payments = [
        {"failure_code": None, "failure_message": None, **payment}
        | {"payment_method": json.dumps(payment["payment_method"])}
        for payment in seed["payments"]
    ]
    conn.executemany(
        "INSERT INTO payments VALUES (:id, :invoice, :customer, :amount, :currency, :status, "
        ":payment_method, :failure_code, :failure_message, :created, :amount_refunded)",
        payments,
    )
    movements = [
        {**refund, "kind": "refund", "reason": refund.get("note") or refund["reason"]}
        for refund in seed["refunds"]
    ] + [
        {**note, "kind": "credit", "invoice": note["applied_to"], "payment": None,
         "reason": note.get("memo") or note["reason"], "status": "applied"}
        for note in seed["credit_notes"]
    ]  # fmt: skip
    conn.executemany(
        "INSERT INTO movements VALUES (:id, :kind, :invoice, :payment, :customer, :amount, "
        ":currency, :reason, NULL, :created, :status)",
        movements,
    )
