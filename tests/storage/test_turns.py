"""A turn's unit of work: one read at its start, one transaction at its end, on both databases."""

from __future__ import annotations

import pytest

from storage.memory import new_message
from storage.store import Store
from storage.tables import AuditEntry, Message
from storage.turns import ThreadKey, TurnRecord

KEY = ThreadKey("T1", "C1", "1.0")


def pair(asked_ts: str, words: str = "where is my invoice?") -> list[Message]:
    return [
        new_message(0, role="user", text=words, user_id="U1", slack_ts=asked_ts),
        new_message(0, role="assistant", agent="billing", text="Here it is."),
    ]


async def test_a_new_thread_is_read_as_empty_and_created_by_the_record(store: Store) -> None:
    opened = await store.turns.open(KEY, 1000)
    assert (opened.thread_id, opened.agent, opened.window.messages) == (0, None, [])
    audit = [AuditEntry(actor="supervisor", action="turn.test", subject="thread:C1:1.0")]
    answer_id = await store.turns.record(
        TurnRecord(key=KEY, messages=pair("1.0"), audit=audit, asked_ts="1.0")
    )
    again = await store.turns.open(KEY, 1000)
    assert again.agent == "billing"
    assert [m.role for m in again.window.messages] == ["user", "assistant"]
    assert again.window.messages[-1].id == answer_id
    assert [e.action for e in await store.audit.history(["thread:C1:1.0"])] == ["turn.test"]


async def test_a_failing_record_leaves_nothing(store: Store) -> None:
    broken = AuditEntry(actor="supervisor", action=None, subject="thread:C1:1.0")  # type: ignore[arg-type]
    with pytest.raises(Exception, match=r"(?i)null"):
        await store.turns.record(
            TurnRecord(key=KEY, messages=pair("1.0"), audit=[broken], asked_ts="1.0")
        )
    assert await store.memory.find_thread(*KEY.values()) is None
    assert await store.audit.history(["thread:C1:1.0"]) == []


async def test_a_second_run_of_a_stored_turn_writes_nothing(store: Store) -> None:
    first = await store.turns.record(TurnRecord(key=KEY, messages=pair("1.0"), asked_ts="1.0"))
    again = await store.turns.record(TurnRecord(key=KEY, messages=pair("1.0"), asked_ts="1.0"))
    follow_up = await store.turns.record(
        TurnRecord(key=KEY, messages=pair("1.1", "and the next one?"), asked_ts="1.1")
    )
    assert again == first and follow_up is not None and follow_up > first  # type: ignore[operator]
    opened = await store.turns.open(KEY, 1000)
    assert [m.role for m in opened.window.messages] == ["user", "assistant"] * 2
