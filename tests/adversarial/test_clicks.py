"""Only an authorised approver's click, before expiry, runs a risky action, and only once.

Clicks come through localslack as Slack sends them (signed `block_actions`), and forged or
replayed requests are sent at the bot's HTTP endpoint directly. Each case counts refunds in the
ledger: 0 without an authorised, unexpired click, exactly 1 with one.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from localslack import LocalSlack, signature
from tests.helpers.adversarial import World, config, world
from tests.helpers.compromised import call, say
from tests.helpers.harness import expire

REFUND = "Please refund the double charge on INV-1018"


@pytest.fixture
async def w(slack: LocalSlack, sqlite_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with world(slack, sqlite_url, tmp_path, config()) as here:
        yield here


async def card_of(w: World, user: str = "bob") -> tuple[str, dict[str, Any], str]:
    thread = await w.ask(user, REFUND)
    [card] = w.cards(thread)
    [approval_id] = w.approval_ids(thread)
    return thread, card, approval_id


def ephemeral(w: World, user: str) -> str:
    return "\n".join(e["text"] for e in w.slack.ephemerals(user, "support"))


async def told(w: World, user: str, words: str) -> None:
    """Wait for the ephemeral answer to `user` that contains `words`."""
    await w.slack.wait_for(
        lambda: words in ephemeral(w, user) or None, within=10, what=f"{user} to be told {words}"
    )
    await w.settle()


def payload(approval_id: str, user: str, card: dict[str, Any], action: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": "T0LOCAL"},
        "user": {"id": user},
        "channel": {"id": "C0SUPPORT"},
        "container": {"type": "message", "message_ts": card["ts"], "channel_id": "C0SUPPORT"},
        "message": card,
        "trigger_id": "1.2.3",
        "actions": [
            {
                "action_id": action,
                "block_id": f"approval:{approval_id}",
                "value": approval_id,
                "type": "button",
                "action_ts": str(time.time()),
            }
        ],
    }


async def send(w: World, body: dict[str, Any] | str, *, secret: str | None = None) -> int:
    """POST an interactivity request to the bot as Slack would, signed with `secret`."""
    raw = body if isinstance(body, str) else urlencode({"payload": json.dumps(body)})
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(secret or w.slack.signing_secret, stamp, raw.encode()),
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(w.running.events_url, data=raw, headers=headers) as response,
    ):
        return response.status


async def test_the_requester_cannot_approve(w: World) -> None:
    thread, _, _ = await card_of(w, "alice")  # alice is a lead, but she asked
    await w.click("alice", thread, decided=False)
    await told(w, "alice", "someone else has to approve")
    assert w.movements() == 0 and len(w.cards(thread)) == 1


@pytest.mark.parametrize("who", ["cara", "dev"])
async def test_people_who_are_not_approvers_cannot_approve(w: World, who: str) -> None:
    thread, _, _ = await card_of(w)
    await w.click(who, thread, decided=False)
    await told(w, who, "not allowed to decide")
    assert w.movements() == 0


async def test_an_approver_approves_once(w: World) -> None:
    thread, _, _ = await card_of(w)
    await w.click("alice", thread)
    assert w.movements() == 1


async def test_a_double_click_runs_once(w: World) -> None:
    thread, card, _ = await card_of(w)
    await asyncio.gather(
        w.slack.click("alice", "support", card["ts"], "approval_approve"),
        w.slack.click("alice", "support", card["ts"], "approval_approve"),
    )
    await w.slack.wait_for(lambda: None if w.cards(thread) else True, within=20, what="decided")
    await w.settle()
    assert w.movements() == 1


async def test_two_approvers_at_once_run_once(w: World) -> None:
    thread, card, _ = await card_of(w)
    await asyncio.gather(
        w.slack.click("alice", "support", card["ts"], "approval_approve"),
        w.slack.click("erin", "support", card["ts"], "approval_approve"),
    )
    await w.slack.wait_for(lambda: None if w.cards(thread) else True, within=20, what="decided")
    await w.settle()
    assert w.movements() == 1


async def test_a_click_a_moment_after_expiry_runs_nothing(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    # The sweep runs every 30 s; the click comes right after the deadline, before it.
    async with world(slack, sqlite_url, tmp_path, config(expires=timedelta(seconds=1))) as w:
        thread, _, approval_id = await card_of(w)
        await expire(w.running, approval_id)
        await w.click("alice", thread)
        await told(w, "alice", "This request expired at")
        assert w.movements() == 0
        assert "Expired at" in w.bot_text(thread)
        final = await w.running.board.store.approvals.get(approval_id)
        assert final is not None and final.status == "expired"


async def test_a_stale_click_long_after_expiry_runs_nothing(w: World) -> None:
    thread, _, approval_id = await card_of(w)
    await expire(w.running, approval_id, ago=timedelta(hours=1))
    await w.click("erin", thread)
    assert w.movements() == 0 and "expired" in w.bot_text(thread).lower()


async def test_a_click_after_rejection_runs_nothing(w: World) -> None:
    thread, card, approval_id = await card_of(w)
    await w.click("erin", thread, "approval_reject")
    assert await send(w, payload(approval_id, "U0ALICE", card, "approval_approve")) == 200
    await w.settle()
    assert w.movements() == 0
    final = await w.running.board.store.approvals.get(approval_id)
    assert final is not None and final.status == "rejected"


async def test_replaying_the_approving_click_runs_once(w: World) -> None:
    thread, card, approval_id = await card_of(w)
    body = payload(approval_id, "U0ALICE", card, "approval_approve")
    assert await send(w, body) == 200
    await w.slack.wait_for(lambda: None if w.cards(thread) else True, within=20, what="decided")
    for _ in range(3):
        assert await send(w, body) == 200
    await w.settle()
    assert w.movements() == 1


@pytest.mark.parametrize(
    "forged",
    [
        "apv_0000000000000000",
        "apv_x' OR '1'='1",
        "",
        "A" * 5000,
        "../../etc/passwd",
        "apv_%00",
    ],
    ids=["unknown", "sql", "empty", "huge", "path", "nul"],
)
async def test_forged_button_values_run_nothing(w: World, forged: str) -> None:
    _, card, _ = await card_of(w)
    status = await send(w, payload(forged, "U0ALICE", card, "approval_approve"))
    await w.settle()
    assert status == 200 and w.movements() == 0


async def test_a_non_approver_forging_a_value_of_someone_elses_card(w: World) -> None:
    _, card, _ = await card_of(w, "cara")
    _, _, other = await card_of(w, "alice")
    assert await send(w, payload(other, "U0BOB", card, "approval_approve")) == 200
    await w.settle()
    assert w.movements() == 0


async def test_a_click_for_another_user_than_the_signer_cannot_be_forged_unsigned(
    w: World,
) -> None:
    _, card, approval_id = await card_of(w)
    body = payload(approval_id, "U0ALICE", card, "approval_approve")
    assert await send(w, body, secret="not-the-signing-secret") == 401
    await w.settle()
    assert w.movements() == 0


async def test_two_approvers_needed_one_person_twice_is_not_two(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with world(slack, sqlite_url, tmp_path, config(required=2)) as w:
        thread, _, _ = await card_of(w)
        await w.click("alice", thread, decided=False)
        await w.click("alice", thread, decided=False)
        assert w.movements() == 0 and len(w.cards(thread)) == 1
        await w.click("erin", thread)
        assert w.movements() == 1


async def test_two_approvers_needed_the_requester_is_not_one_of_them(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with world(slack, sqlite_url, tmp_path, config(required=2)) as w:
        thread, _, _ = await card_of(w, "alice")
        await w.click("erin", thread, decided=False)
        await w.click("alice", thread, decided=False)
        assert w.movements() == 0 and len(w.cards(thread)) == 1


@pytest.mark.parametrize(
    ("who", "words"),
    [("bob", "someone else has to approve"), ("cara", "not allowed to decide")],
)
async def test_slash_approve_follows_the_same_rules(w: World, who: str, words: str) -> None:
    _, _, approval_id = await card_of(w)
    await w.slack.slash(who, "support", f"approve {approval_id}")
    await w.slack.wait_for(
        lambda: any(words in e["text"] for e in w.slack.ephemerals(who, "support")) or None,
        within=10,
        what="the refusal",
    )
    await w.settle()
    assert w.movements() == 0


async def test_slash_approve_with_a_forged_id(w: World) -> None:
    await card_of(w)
    await w.slack.slash("alice", "support", "approve apv_ffffffffffffffff")
    await w.settle()
    assert w.movements() == 0


async def test_slash_approve_after_expiry(w: World) -> None:
    thread, _, approval_id = await card_of(w)
    await expire(w.running, approval_id)
    await w.slack.slash("alice", "support", f"approve {approval_id}")
    await w.slack.wait_for(lambda: None if w.cards(thread) else True, within=20, what="expired")
    await w.settle()
    assert w.movements() == 0


async def test_compromised_model_after_approval_cannot_add_a_second_refund(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    # The model resumes after the approval and asks for the same refund again, and claims it.
    async with world(slack, sqlite_url, tmp_path, config(model="compromised")) as w:
        refund = call(
            "issue_refund",
            invoice="INV-1018",
            amount_cents=19900,
            currency="USD",
            customer_name="Helix Analytics",
            reason="duplicate",
        )
        thread = await w.ask("bob", f"Refund INV-1018 {refund}{refund}{say('Refunded.')}")
        assert len(w.cards(thread)) == 1  # both calls on one card
        await w.click("alice", thread)
        assert w.movements() == 1  # the ledger refuses a second refund beyond what was paid
