"""Approvals: the state machine, N distinct approvers, and exactly one winner under contention."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from storage.approvals import NewApproval, Outcome
from storage.columns import utcnow
from storage.errors import InvalidTransitionError
from storage.store import Store


def refund(required: int = 1, expires_in: timedelta = timedelta(hours=1)) -> NewApproval:
    return NewApproval(
        channel="C1",
        thread_ts="1.0",
        agent="billing",
        tool="issue_refund",
        arguments={"invoice": "INV-1042", "amount_cents": 12000},
        summary="Refund $120.00 to ACME Corp for invoice INV-1042",
        rationale="Customer was charged after cancelling.",
        requester="U_REQ",
        approvers=["U_LEAD1", "U_LEAD2"],
        expires_at=utcnow() + expires_in,
        required_approvals=required,
    )


async def test_approve_then_execute(store: Store) -> None:
    approval = await store.approvals.create(refund())
    assert approval.id.startswith("apv_") and approval.status == "pending"
    assert await store.approvals.approve(approval.id, "U_LEAD1") is Outcome.APPROVED
    assert await store.approvals.mark_executed(approval.id, {"refund": "re_123"})
    assert not await store.approvals.mark_executed(approval.id, {"refund": "re_456"})
    final = await store.approvals.get(approval.id)
    assert final is not None
    assert (final.status, final.decided_by, final.result) == (
        "executed",
        "U_LEAD1",
        {"refund": "re_123"},
    )


async def test_reject_keeps_reason_and_blocks_approval(store: Store) -> None:
    approval = await store.approvals.create(refund())
    assert await store.approvals.reject(approval.id, "U_LEAD2", "not eligible")
    assert await store.approvals.approve(approval.id, "U_LEAD1") is Outcome.NOT_PENDING
    final = await store.approvals.get(approval.id)
    assert final is not None and (final.status, final.reason) == ("rejected", "not eligible")
    assert [(d.user_id, d.decision) for d in await store.approvals.decisions(approval.id)] == [
        ("U_LEAD2", "reject")
    ]


async def test_two_distinct_approvers_needed_when_configured(store: Store) -> None:
    approval = await store.approvals.create(refund(required=2))
    assert await store.approvals.approve(approval.id, "U_LEAD1") is Outcome.RECORDED
    assert await store.approvals.approve(approval.id, "U_LEAD1") is Outcome.ALREADY_DECIDED
    assert await store.approvals.approve(approval.id, "U_LEAD2") is Outcome.APPROVED


async def test_failure_is_recorded(store: Store) -> None:
    approval = await store.approvals.create(refund())
    await store.approvals.approve(approval.id, "U_LEAD1")
    assert await store.approvals.mark_failed(approval.id, "card_declined")
    final = await store.approvals.get(approval.id)
    assert final is not None and (final.status, final.error) == ("failed", "card_declined")


async def test_expiry_sweeps_only_due_pending_approvals(store: Store) -> None:
    due = await store.approvals.create(refund(expires_in=timedelta(seconds=-1)))
    later = await store.approvals.create(refund(expires_in=timedelta(hours=1)))
    decided = await store.approvals.create(refund(expires_in=timedelta(seconds=-1)))
    await store.approvals.reject(decided.id, "U_LEAD1")
    expired = await store.approvals.expire_due()
    assert [a.id for a in expired] == [due.id]
    assert await store.approvals.expire_due() == []
    still = await store.approvals.get(later.id)
    assert still is not None and still.status == "pending"
    assert await store.approvals.approve(due.id, "U_LEAD1") is Outcome.NOT_PENDING


async def test_transitions_outside_the_state_machine_are_refused(store: Store) -> None:
    approval = await store.approvals.create(refund())
    with pytest.raises(InvalidTransitionError):
        await store.approvals.transition(approval.id, "executed", "pending")
    assert not await store.approvals.mark_executed(approval.id, {})  # not approved yet


async def test_card_location_and_claimed_listing(store: Store) -> None:
    approval = await store.approvals.create(refund())
    await store.approvals.set_card(approval.id, "C_APPROVALS", "9.0001")
    await store.approvals.approve(approval.id, "U_LEAD1")
    [claimed] = await store.approvals.in_status("approved")
    assert (claimed.id, claimed.card_channel, claimed.card_ts) == (
        approval.id,
        "C_APPROVALS",
        "9.0001",
    )


async def test_50_concurrent_claims_have_exactly_one_winner(store: Store) -> None:
    approval = await store.approvals.create(refund())
    outcomes = await asyncio.gather(
        *(store.approvals.approve(approval.id, f"U_{n}") for n in range(50))
    )
    assert outcomes.count(Outcome.APPROVED) == 1
    assert set(outcomes) <= {Outcome.APPROVED, Outcome.NOT_PENDING}


async def test_50_concurrent_compare_and_sets_have_exactly_one_winner(store: Store) -> None:
    approval = await store.approvals.create(refund())
    await store.approvals.approve(approval.id, "U_LEAD1")
    wins = await asyncio.gather(
        *(store.approvals.mark_executed(approval.id, {"n": n}) for n in range(50))
    )
    assert wins.count(True) == 1


async def test_past_its_deadline_an_approval_cannot_be_claimed_even_before_the_sweep(
    store: Store,
) -> None:
    approval = await store.approvals.create(refund(expires_in=timedelta(seconds=5)))
    later = utcnow() + timedelta(seconds=6.5)
    assert await store.approvals.approve(approval.id, "U_LEAD1", now=later) is Outcome.EXPIRED
    again = await store.approvals.approve(approval.id, "U_LEAD2", now=later)
    assert again is Outcome.NOT_PENDING  # expired by the first click: nothing to announce twice
    final = await store.approvals.get(approval.id)
    assert final is not None and final.status == "expired" and final.decided_by is None
    assert await store.approvals.decisions(approval.id) == []


async def test_the_claim_itself_checks_the_deadline(store: Store) -> None:
    # The second approver's yes comes after the deadline: counted before it, claimed never.
    approval = await store.approvals.create(refund(required=2, expires_in=timedelta(seconds=5)))
    assert await store.approvals.approve(approval.id, "U_LEAD1") is Outcome.RECORDED
    late = utcnow() + timedelta(seconds=10)
    assert await store.approvals.approve(approval.id, "U_LEAD2", now=late) is Outcome.EXPIRED


async def test_a_recorded_yes_is_claimed_on_the_next_click(store: Store) -> None:
    # A crash came between recording alice's yes and claiming: her next click claims it.
    approval = await store.approvals.create(refund())
    assert await store.approvals._decide(approval.id, "U_LEAD1", "approve", None)
    assert await store.approvals.approve(approval.id, "U_LEAD1") is Outcome.APPROVED


async def test_a_request_key_finds_the_first_approval(store: Store) -> None:
    first, created = await store.approvals.request(replace(refund(), request_key="Ev1:billing:0"))
    again, created_again = await store.approvals.request(
        replace(refund(), request_key="Ev1:billing:0")
    )
    assert (created, created_again, again.id) == (True, False, first.id)


async def test_tickets_and_incidents_are_unique_by_their_key(store: Store) -> None:
    one = await store.tickets.open(channel="C1", thread_ts="1.0", title="a", idempotency_key="k")
    two = await store.tickets.open(channel="C1", thread_ts="1.0", title="b", idempotency_key="k")
    inc = await store.incidents.open(channel="C1", thread_ts="1.0", title="x", idempotency_key="k")
    inc2 = await store.incidents.open(channel="C1", thread_ts="1.0", title="y", idempotency_key="k")
    assert (one.id, inc.id) == (two.id, inc2.id)
    assert len(await store.tickets.for_thread("C1", "1.0")) == 1
