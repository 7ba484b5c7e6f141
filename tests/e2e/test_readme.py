"""The README's quick-start examples, run through the local workspace as a person would.

Each example's claim in the README ("billing explains the charge", "technical answers from the
runbooks, citing them", ...) is checked on the real reply, so the README cannot drift from what
the product does. If the README's list changes, this test's table must change with it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from localslack import LocalSlack
from tests.helpers.harness import bot, settings_for

README = Path(__file__).resolve().parents[2] / "README.md"


def quick_start_examples() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- `@switchboard ([^`]+)`", section, re.MULTILINE)


def context_of(message: dict[str, Any]) -> str:
    return " ".join(
        str(e.get("text"))
        for b in message.get("blocks") or []
        if b["type"] == "context"
        for e in b["elements"]
    )


def is_reply(message: dict[str, Any]) -> bool:
    return "Answered by" in context_of(message)


async def ask(slack: LocalSlack, words: str) -> tuple[str, dict[str, Any]]:
    ts = await slack.post("bob", "support", f"<@{slack.bot_user_id}> {words}")
    reply = await slack.wait_for_bot_message("support", thread_ts=ts, within=30, predicate=is_reply)
    return ts, reply


async def test_every_quick_start_example_does_what_the_readme_says(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    assert quick_start_examples() == [
        "Why was invoice INV-1024 charged after we cancelled?",
        "Please refund the double charge on INV-1018",
        "SSO login fails with invalid_grant",
        "the API is down for everyone, page on-call",
    ]
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)):
        # "billing explains the charge"
        _, reply = await ask(slack, "Why was invoice INV-1024 charged after we cancelled?")
        assert "*Billing*" in context_of(reply)
        assert "INV-1024" in reply["text"] and "charge" in reply["text"].lower()

        # "an approval card; switch to alice, click Approve; the card updates and billing
        # confirms the refund"
        ts, reply = await ask(slack, "Please refund the double charge on INV-1018")
        assert "*Billing*" in context_of(reply)
        card = await slack.wait_for_bot_message(
            "support",
            thread_ts=ts,
            within=20,
            predicate=lambda m: any(
                str(b.get("block_id", "")).startswith("approval:") for b in m.get("blocks") or []
            ),
        )
        await slack.click("alice", "support", card["ts"], "approval_approve")

        def confirmed() -> dict[str, Any] | None:
            for message in slack.thread("support", ts):
                if "after the approval decision" in context_of(message):
                    return message
            return None

        done = await slack.wait_for(confirmed, within=30, what="billing's confirmation")
        assert "refund" in done["text"].lower()
        updated = next(m for m in slack.thread("support", ts) if m["ts"] == card["ts"])
        assert "Approved by" in str(updated["blocks"])

        # "technical answers from the runbooks, citing them"
        _, reply = await ask(slack, "SSO login fails with invalid_grant")
        assert "*Technical*" in context_of(reply)
        assert "(runbook: sso-and-login.md" in reply["text"]
        assert "not in our runbooks" not in reply["text"]
        assert "SSO-202" in reply["text"] or "authorization code" in reply["text"]

        # "escalation asks to page and open an incident"
        _, reply = await ask(slack, "the API is down for everyone, page on-call")
        assert "*Escalation*" in context_of(reply)
        assert "Page on-call" in reply["text"] and "incident" in reply["text"].lower()

        # "/switchboard status", "/switchboard help"
        await slack.slash("bob", "support", "help")
        await slack.slash("bob", "support", "status")
        texts = await slack.wait_for(
            lambda: (
                [e["text"] for e in slack.ephemerals("bob", "support")]
                if len(slack.ephemerals("bob", "support")) >= 2
                else None
            ),
            within=20,
            what="the two command answers",
        )
        assert any("sends your message to the right specialist" in t for t in texts)
        assert any("approval" in t.lower() for t in texts if "right specialist" not in t)
