"""The corrections loop end to end through localslack: the control, who may use it, the re-run,
once only, and the next training learning from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from localslack import LocalSlack
from router.examples import Example
from router.training import default_classifier
from tests.helpers.harness import bot, settings_for, settled

WORDS = "my report from the team offsite is gone"


def control_of(message: dict[str, Any]) -> dict[str, Any] | None:
    for block in message.get("blocks") or []:
        if str(block.get("block_id", "")).startswith("correct:"):
            return dict(block["elements"][0])
    return None


def has_control(message: dict[str, Any]) -> bool:
    return control_of(message) is not None


async def test_a_corrector_moves_a_reply_to_another_specialist_once(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path
) -> None:
    async with bot(slack, settings_for(slack, sqlite_url, tmp_path)) as running:
        ts = await slack.post("bob", "support", f"<@{slack.bot_user_id}> {WORDS}")
        reply = await slack.wait_for_bot_message(
            "support", thread_ts=ts, within=20, predicate=has_control
        )
        first_agent = next(b for b in reply["blocks"] if b["type"] == "context")["elements"][0][
            "text"
        ]
        control = control_of(reply)
        assert control is not None and control["text"]["text"] == "Wrong specialist?"

        # Support staff may not correct: a private explanation, nothing re-run.
        await slack.click("cara", "support", reply["ts"], "route_correct_open")
        refusal = await slack.wait_for(
            lambda: next(iter(slack.ephemerals("cara", "support")), None), within=10
        )
        assert "can correct routes" in refusal["text"]

        # A lead gets the choice of the other specialists, privately.
        await slack.click("alice", "support", reply["ts"], "route_correct_open")
        choice = await slack.wait_for(
            lambda: next((e for e in slack.ephemerals("alice", "support") if e["blocks"]), None),
            within=10,
        )
        labels = [
            e["text"]["text"]
            for b in choice["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
        ]
        assert len(labels) == 3
        target = "technical" if "*Technical*" not in first_agent else "escalation"
        await slack.click("alice", "support", choice["ts"], f"route_correct:{target}")

        def corrected() -> dict[str, Any] | None:
            for message in slack.thread("support", ts):
                if "corrected the route" in str(message.get("blocks")):
                    return message
            return None

        redo = await slack.wait_for(corrected, within=20, what="the corrected reply")
        assert f"Answered by *{target.title()}*" in str(redo["blocks"])
        assert has_control(redo)  # the new reply can be corrected again

        # A second click on the old choice records nothing and re-runs nothing.
        await slack.click("alice", "support", choice["ts"], f"route_correct:{target}")
        await settled(running)
        rows = await running.board.store.corrections.all()
        assert [(r.text, r.to_route, r.corrected_by) for r in rows] == [
            (WORDS, target, slack.workspace.user("alice").id)
        ]
        replies = [
            m for m in slack.thread("support", ts) if "corrected the route" in str(m.get("blocks"))
        ]
        assert len(replies) == 1

    # The next training learns it.
    learned = default_classifier([Example(r.text, r.to_route) for r in rows])
    assert learned.predict(WORDS).route == target
