"""A small, hand-checked history: two windows of conversations, approvals and records.

The window is [END - 24h, END); the previous window the 24 hours before it. Every figure the
digest shows for this data is worked out by hand in `tests/digests/test_reports.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from storage.store import Store
from storage.tables import Approval, Incident, Message, Thread, Ticket

END = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
START = END - timedelta(hours=24)
TEAM = "T0LOCAL"
CHANNEL = "C0SUPPORT"


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A time on 28 February (day=28) or 1 or 2 March 2026, UTC."""
    month = 2 if day == 28 or day == 27 else 3
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


class Seeder:
    """Writes rows with the times a test chooses (the repositories stamp `now`)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.threads: dict[str, int] = {}
        self._approvals = 0

    async def _insert(self, model: Any, values: dict[str, Any]) -> int:
        async with self.store.db.write() as session:
            conn = await session.connection()
            result = await conn.execute(insert(model).values(**values).returning(model.id))
            return int(result.scalar_one()) if model is not Approval else 0

    async def thread(self, key: str, created: datetime) -> int:
        thread_id = await self._insert(
            Thread,
            {
                "team_id": TEAM,
                "channel": CHANNEL,
                "thread_ts": key,
                "summary": "",
                "summary_tokens": 0,
                "summary_upto": 0,
                "created_at": created,
                "updated_at": created,
            },
        )
        self.threads[key] = thread_id
        return thread_id

    async def ask(self, key: str, when: datetime, route: str, text: str) -> None:
        await self._insert(
            Message,
            {
                "thread_id": self.threads[key],
                "role": "user",
                "user_id": "U0BOB",
                "text": text,
                "tokens": 5,
                "routes": [{"route": route, "confidence": 0.9}],
                "route_confidence": 0.9,
                "route_source": "classifier",
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "cost_usd": 0.0,
                "created_at": when,
            },
        )

    async def answer(
        self, key: str, when: datetime, agent: str, usage: tuple[int, int, float]
    ) -> None:
        prompt, completion, cost = usage
        await self._insert(
            Message,
            {
                "thread_id": self.threads[key],
                "role": "assistant",
                "agent": agent,
                "text": "Here is what I found.",
                "tokens": 5,
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "cost_usd": cost,
                "created_at": when,
            },
        )

    async def approval(
        self, key: str, created: datetime, status: str, decided: datetime | None
    ) -> None:
        self._approvals += 1
        await self._insert(
            Approval,
            {
                "id": f"apv_test{self._approvals:04d}",
                "team_id": TEAM,
                "channel": CHANNEL,
                "thread_ts": key,
                "agent": "billing",
                "tool": "refund",
                "arguments": {},
                "summary": "Refund",
                "rationale": "",
                "requester": "U0BOB",
                "approvers": [],
                "required_approvals": 1,
                "status": status,
                "decided_at": decided,
                "expires_at": created + timedelta(hours=4),
                "created_at": created,
                "updated_at": created,
            },
        )

    async def record(self, model: Any, key: str, created: datetime, **fields: Any) -> int:
        defaults = {"status": "open"} | (
            {"severity": "SEV3"} if model is Incident else {"priority": "normal"}
        )
        values = {"channel": CHANNEL, "thread_ts": key, "created_at": created}
        return await self._insert(model, {**defaults, **values, "updated_at": created, **fields})


async def seed(store: Store) -> Seeder:
    """The scenario; see the module docstring and test_reports.py for what it adds up to."""
    s = Seeder(store)
    # Previous window (28 Feb 09:00 to 1 Mar 09:00).
    await s.thread("F", at(27, 12))  # only the bot speaks in the windows: not a conversation
    await s.thread("I", at(28, 10))
    await s.ask("I", at(28, 10), "billing", "Invoice charged twice")
    await s.approval("I", at(28, 11), "rejected", at(28, 11, 10))
    await s.approval("F", at(28, 10), "approved", at(1, 10))
    await s.thread("E", at(28, 20))
    await s.ask("E", at(28, 20), "triage", "Password reset email missing")
    await s.answer("E", at(28, 20, 5), "triage", (60, 10, 0.006))
    await s.record(Incident, "P", at(28, 12), title="Old outage", status="resolved")
    # This window (1 Mar 09:00 to 2 Mar 09:00).
    await s.thread("H", at(1, 9))
    await s.ask("H", at(1, 9), "technical", "Webhook failing for <@U0BOB>")  # at the start: in
    await s.answer("H", at(1, 9, 0, 45), "technical", (120, 30, 0.012))
    await s.ask("H", at(2, 9), "technical", "and again")  # at the end: out
    await s.answer("E", at(1, 9, 30), "triage", (40, 10, 0.004))
    await s.approval("E", at(1, 9, 10), "expired", at(1, 13, 10))
    await s.thread("A", at(1, 10))
    await s.ask("A", at(1, 10), "billing", "Refund for invoice INV-1 please")
    await s.answer("A", at(1, 10, 0, 30), "billing", (100, 20, 0.01))
    await s.approval("A", at(1, 10, 1), "executed", at(1, 10, 11))
    await s.thread("B", at(1, 11))
    await s.ask("B", at(1, 11), "technical", "Login error on dashboard")
    await s.approval("B", at(1, 11), "rejected", at(1, 11, 30))
    await s.answer("B", at(1, 11, 2), "technical", (200, 50, 0.02))
    await s.ask("B", at(1, 11, 5), "technical", "still broken")
    await s.thread("C", at(1, 12))
    await s.ask("C", at(1, 12), "escalation", "Outage: checkout is down")
    await s.answer("C", at(1, 12, 10), "escalation", (300, 80, 0.05))
    await s.record(Incident, "C", at(1, 12, 10), title="Checkout down", severity="SEV1")
    await s.record(Ticket, "C", at(1, 12, 10), title="Checkout down", category="escalation")
    await s.record(Ticket, "A", at(1, 10, 5), title="Refund", category="billing")
    await s.thread("D", at(1, 13))
    await s.ask("D", at(1, 13), "billing", "Refund order 42")
    await s.answer("D", at(1, 13, 1), "billing", (150, 30, 0.015))
    await s.approval("D", at(1, 13, 1), "pending", None)
    await s.answer("F", at(1, 15), "billing", (10, 5, 0.001))
    await s.ask("E", at(1, 14), "triage", "thanks, works now")
    await s.answer("E", at(1, 14, 3), "triage", (50, 10, 0.005))
    await s.thread("G", at(1, 16))
    await s.ask("G", at(1, 16), "technical", "API timeout on export")
    return s
