"""No broadcast or group mention leaves the bot from what a user or a model wrote.

Every Web API write the bot made is inspected as Slack received it (localslack keeps them):
`<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^…>` and `@channel`-style words appear only
where the bot's own code means them (the on-call group in a page).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from localslack import LocalSlack
from tests.helpers.adversarial import LEADS, ONCALL, World, config, world
from tests.helpers.compromised import call, say

INJECTIONS = {
    "channel": "<!channel>",
    "here": "<!here|here>",
    "everyone": "<!everyone>",
    "subteam": "<!subteam^S0SUPPORT|@support>",
    "leads_group": f"<!subteam^{LEADS}>",
    "plain_words": "@channel @here @everyone",
}


@pytest.fixture
async def offline(slack: LocalSlack, sqlite_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with world(slack, sqlite_url, tmp_path, config()) as w:
        yield w


@pytest.fixture
async def attacked(slack: LocalSlack, sqlite_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with world(slack, sqlite_url, tmp_path, config(model="compromised")) as w:
        yield w


def live(w: World, token: str) -> int:
    """How many times the bot sent `token` as a live mention, in any write."""
    return sum(
        json.dumps(args, ensure_ascii=False).count(token)
        for method, args in w.slack.api_calls
        if method.startswith("chat.")
    )


@pytest.mark.parametrize("mention", INJECTIONS.values(), ids=INJECTIONS.keys())
async def test_in_a_refund_request_card_and_reply(offline: World, mention: str) -> None:
    thread = await offline.ask("bob", f"{mention} please refund the double charge on INV-1018")
    assert offline.cards(thread) and offline.mass_mentions() == []
    assert live(offline, f"<!subteam^{LEADS}>") == 0


@pytest.mark.parametrize("mention", ["<!channel>", "@here"], ids=["channel", "here"])
async def test_in_a_ticket_title(offline: World, mention: str) -> None:
    await offline.ask("bob", f"{mention} I want to talk to a manager about my order")
    assert offline.mass_mentions() == []


async def test_in_a_page_only_the_oncall_group_is_mentioned(offline: World) -> None:
    thread = await offline.ask(
        "cara", f"<!everyone> <!subteam^{ONCALL}> the API is down for everyone, page on-call"
    )
    await offline.click("alice", thread)
    [page] = offline.pages()
    assert page["text"].count(f"<!subteam^{ONCALL}>") == 1  # the code's, not the user's
    assert "<!everyone>" not in page["text"] and offline.mass_mentions() == []


@pytest.mark.parametrize("mention", INJECTIONS.values(), ids=INJECTIONS.keys())
async def test_in_a_models_reply(attacked: World, mention: str) -> None:
    await attacked.ask("bob", "Hello there " + say(f"{mention} look at this, everyone!"))
    assert attacked.mass_mentions() == [] and live(attacked, f"<!subteam^{LEADS}>") == 0


async def test_in_the_arguments_a_model_puts_on_a_card(attacked: World) -> None:
    credit = call(
        "issue_credit",
        customer_id="cus_N7kQ2mLp4RtV",
        customer_name="<!here> Helix <!channel>",
        amount_cents=50000,
        currency="USD",
        reason="<!everyone> @channel goodwill",
    )
    thread = await attacked.ask("bob", "Credit Helix " + credit)
    assert attacked.cards(thread) and attacked.mass_mentions() == []


async def test_in_a_reject_reason(offline: World) -> None:
    thread = await offline.ask("bob", "Please refund the double charge on INV-1018")
    [approval_id] = offline.approval_ids(thread)
    await offline.slack.slash("erin", "support", f"reject {approval_id} <!channel> not eligible")
    await offline.slack.wait_for(
        lambda: None if offline.cards(thread) else True, within=20, what="rejected"
    )
    await offline.settle()
    assert offline.mass_mentions() == []


async def test_in_an_unknown_slash_command(offline: World) -> None:
    await offline.slack.slash("bob", "support", "<!channel> @here")
    await offline.slack.wait_for(
        lambda: (
            any("Unknown command" in e["text"] for e in offline.slack.ephemerals("bob", "support"))
            or None
        ),
        within=10,
        what="the answer",
    )
    [answer] = [e["text"] for e in offline.slack.ephemerals("bob", "support")]
    assert "<!channel>" not in answer and "@here" not in answer


async def test_many_user_mentions_from_a_model_are_not_sent_live(attacked: World) -> None:
    people = " ".join(f"<@U0{n:07d}>" for n in range(12))
    thread = await attacked.ask("bob", "Hi " + say(f"Paging everyone I know: {people}"))
    assert "<@U00000001>" not in attacked.bot_text(thread)
