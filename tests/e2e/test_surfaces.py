"""The surfaces end to end over signed HTTP: the real bot behind the local workspace.

App Home (approve there, the desk's rules), the assistant panel (prompts, the router, a
title), the "Ask Switchboard" shortcut (the answer in the message's thread, the shortcut's user
as requester), and Reject's reason modal. The browser versions are in test_browser_surfaces.py.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import col

from localslack import LocalSlack
from storage.columns import utcnow
from storage.tables import Approval
from tests.helpers.harness import (
    REFUND,
    ask_for_refund,
    bot,
    card_decided,
    has_buttons,
    refunds,
    settings_for,
    settled,
)


def waiting_on(home: dict[str, Any]) -> list[str]:
    """The approval ids the Home tab offers to decide."""
    return [
        str(e["value"])
        for b in home["blocks"]
        if str(b.get("block_id", "")).startswith("home_approval:")
        for e in b["elements"]
        if e["action_id"] == "home_approve"
    ]


def home_text(home: dict[str, Any]) -> str:
    return json.dumps(home["blocks"], ensure_ascii=False)


async def test_a_lead_approves_a_waiting_refund_in_the_home_tab(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)) as running:
        ts, card, approval_id = await ask_for_refund(slack, user="alice")

        # The requester is an approver too, but never of her own request.
        await slack.open_home("alice")
        mine = await slack.wait_for_home("alice", within=10)
        assert waiting_on(mine) == [] and "Nothing waits for your decision" in home_text(mine)
        await slack.open_home("cara")  # support staff may not approve
        assert waiting_on(await slack.wait_for_home("cara", within=10)) == []

        await slack.open_home("erin")
        home = await slack.wait_for_home("erin", lambda v: bool(waiting_on(v)), within=10)
        assert waiting_on(home) == [approval_id]
        assert "Refund $199.00 to Helix Analytics" in home_text(home)
        assert "Open incidents" in home_text(home) and "Digests" in home_text(home)
        assert "Billing" in home_text(home)  # today's turns by route
        await slack.click_view(
            "erin", home["id"], "home_approve", block_id=f"home_approval:{approval_id}"
        )
        decided = await card_decided(slack, ts, card["ts"])
        assert "Approved by <@U0ERIN>" in json.dumps(decided["blocks"])
        after = await slack.wait_for_home("erin", lambda v: "Approved." in home_text(v), within=20)
        assert waiting_on(after) == []
        await settled(running)
        assert await refunds(tmp_path, approval_id) == 1
        audit = await running.board.store.audit.history([f"approval:{approval_id}"])
        assert [e.actor for e in audit if e.action == "approval.executed"] == ["U0ERIN"]


async def test_home_enforces_expiry_and_refreshes_when_a_card_appears(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)) as running:
        assert running.board.surfaces is not None
        running.board.surfaces.home.interval = timedelta(seconds=1)  # 5 s by default
        await slack.open_home("erin")
        first = await slack.wait_for_home("erin", within=10)
        assert waiting_on(first) == []
        _, _, approval_id = await ask_for_refund(slack)
        # Refreshed on change (the card's post), within the per-person interval.
        home = await slack.wait_for_home("erin", lambda v: bool(waiting_on(v)), within=20)
        async with running.board.store.db.write() as session:
            await session.exec(
                update(Approval)
                .where(col(Approval.id) == approval_id)
                .values(expires_at=utcnow() - timedelta(minutes=1))
            )
        await slack.click_view(
            "erin", home["id"], "home_approve", block_id=f"home_approval:{approval_id}"
        )
        told = await slack.wait_for_home("erin", lambda v: "expired" in home_text(v), within=20)
        assert waiting_on(told) == []
        await settled(running)
        assert await refunds(tmp_path, approval_id) == 0
        publishes = [
            a for m, a in slack.api_calls if m == "views.publish" and a["user_id"] == "U0ERIN"
        ]
        assert len(publishes) <= 4  # opened, card appeared, the click, the expiry: no storm


async def test_the_assistant_suggests_prompts_routes_the_pick_and_titles_the_thread(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)) as running:
        thread = await slack.open_assistant("bob", "billing")
        channel, ts = thread["channel"], thread["thread_ts"]
        shown = await slack.wait_for(lambda: slack.assistant(channel, ts)["prompts"], within=10)
        titles = [p["title"] for p in shown]
        assert len(shown) >= 3 and "Explain a charge" in titles
        await slack.pick_prompt(channel, ts, titles.index("Explain a charge"))
        reply = await slack.wait_for_bot_message(
            channel, thread_ts=ts, within=20, predicate=lambda m: "Answered by" in json.dumps(m)
        )
        assert "Answered by *Billing*" in json.dumps(reply["blocks"])
        titled = await slack.wait_for(
            lambda: slack.assistant(channel, ts)["title"].startswith("Billing"), within=10
        )
        assert titled
        assert slack.assistant(channel, ts)["title"].startswith("Billing · Why was invoice")
        await settled(running)
        memory = await running.board.store.memory.find_thread("T0LOCAL", channel, ts)
        assert memory is not None and memory.id is not None
        said = await running.board.store.memory.messages(memory.id)
        assert [m.role for m in said][:2] == ["user", "assistant"] and said[0].user_id == "U0BOB"
        titles_set = [a for m, a in slack.api_calls if m == "assistant.threads.setTitle"]
        assert len(titles_set) == 1  # once, however many replies follow

        # Unsure what a question is about, the router asks: no title until a specialist answers.
        vague = await slack.open_assistant("bob", "support")
        ts = vague["thread_ts"]
        first = await slack.post("bob", channel, "can you check this for me", thread_ts=ts)
        await slack.wait_for_bot_message(channel, thread_ts=ts, after_ts=first, within=20)
        await settled(running)
        assert slack.assistant(channel, ts)["title"] == "New chat"
        await slack.post("bob", channel, "It is about a charge on invoice INV-1024", thread_ts=ts)
        await slack.wait_for(lambda: slack.assistant(channel, ts)["title"] != "New chat", within=20)
        assert slack.assistant(channel, ts)["title"] == "Billing · can you check this for me"


async def test_ask_switchboard_answers_a_customers_message_in_its_thread(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)) as running:
        asked = await slack.post("cara", "support", REFUND)  # no mention: the bot stays quiet
        await slack.shortcut("alice", "support", asked, "ask_switchboard")
        card = await slack.wait_for_bot_message(
            "support", thread_ts=asked, within=20, predicate=has_buttons
        )
        assert "requested by <@U0ALICE>" in card["text"]  # the shortcut's user asks
        approval_id = next(
            e["value"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]
        )
        approval = await running.board.store.approvals.get(approval_id)
        assert approval is not None and approval.requester == "U0ALICE"
        await slack.click("alice", "support", card["ts"], "approval_approve")
        refused = await slack.wait_for(lambda: slack.ephemerals("alice", "support"), within=10)
        assert "someone else has to approve" in json.dumps(refused)

        other = await slack.post("bob", "general", "SSO login fails with invalid_grant")
        await slack.shortcut("erin", "general", other, "ask_switchboard")
        told = await slack.wait_for(lambda: slack.ephemerals("erin", "general"), within=10)
        assert "I'm not in" in told[0]["text"] and slack.thread("general", other)[1:] == []
        await settled(running)
        assert len([m for m in slack.thread("support", asked) if m.get("bot_id")]) == 2


async def test_reject_asks_for_a_reason_and_the_card_and_thread_show_it(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)) as running:
        ts, card, approval_id = await ask_for_refund(slack)
        await slack.click("cara", "support", card["ts"], "approval_reject")  # not allowed
        refused = await slack.wait_for(lambda: slack.ephemerals("cara", "support"), within=10)
        assert "not allowed" in json.dumps(refused) and slack.modal("cara") is None

        await slack.click("erin", "support", card["ts"], "approval_reject")
        modal = await slack.wait_for_modal("erin", within=10)
        assert "Refund $199.00 to Helix Analytics" in json.dumps(modal["blocks"])
        shown = await slack.submit_view("erin", modal["id"], {"reason": {"reason_text": "   "}})
        assert shown is not None and shown["errors"]["reason"].startswith("Say why")
        reason = "Customer is on the annual plan <!channel>"
        assert (
            await slack.submit_view("erin", modal["id"], {"reason": {"reason_text": reason}})
            is None
        )
        decided = await card_decided(slack, ts, card["ts"])
        blocks = json.dumps(decided["blocks"])
        assert "Rejected by <@U0ERIN>" in blocks and "Customer is on the annual plan" in blocks
        assert "<!channel>" not in blocks  # the reason is escaped on the card
        told = await slack.wait_for_bot_message(
            "support",
            thread_ts=ts,
            within=20,
            predicate=lambda m: m["ts"] != card["ts"] and "rejected" in m.get("text", ""),
        )
        assert "Customer is on the annual plan" in told["text"] and "<!channel>" not in told["text"]
        await settled(running)
        approval = await running.board.store.approvals.get(approval_id)
        assert approval is not None and approval.status == "rejected"
        assert approval.reason == reason
