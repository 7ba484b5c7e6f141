"""Home tabs, modals, message shortcuts and the assistant panel, against a plain Bolt app.

Each flow goes through Slack's wire protocol both ways: the deed is a signed request (or a
Socket Mode envelope) to Bolt, and Bolt's answers are Web API calls checked against the spec.
"""

from __future__ import annotations

from typing import Any

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack
from localslack.manifest import config_from_manifest
from tests.helpers.bolt import FAST, bolt_app, serve_bolt

BUTTON = {
    "type": "actions",
    "block_id": "row:A1",
    "elements": [
        {
            "type": "button",
            "action_id": "go",
            "text": {"type": "plain_text", "text": "Go"},
            "value": "A1",
        }
    ],
}
REASON_MODAL = {
    "type": "modal",
    "callback_id": "why",
    "private_metadata": "A1",
    "title": {"type": "plain_text", "text": "Reject request"},
    "submit": {"type": "plain_text", "text": "Reject"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "blocks": [
        {
            "type": "input",
            "block_id": "reason",
            "label": {"type": "plain_text", "text": "Reason"},
            "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
        }
    ],
}


async def test_home_tab_publish_click_and_the_view_in_the_event(
    ls: LocalSlack, client: AsyncWebClient
) -> None:
    app = bolt_app(ls)
    seen: list[dict[str, Any]] = []

    @app.event("app_home_opened")
    async def opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        seen.append(event)
        home = {"type": "home", "blocks": [BUTTON]}
        await client.views_publish(user_id=event["user"], view=home)

    @app.action("go")
    async def go(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        seen.append(body)

    async with serve_bolt(app) as url:
        await ls.use_http(url, verify=False)
        await ls.open_home("alice")
        home = await ls.wait_for_home("alice")
        assert ls.home("bob") is None  # each person has their own Home
        await ls.click_view("alice", home["id"], "go", block_id="row:A1")
        await ls.wait_for(lambda: len(seen) == 2, what="the click")
        await ls.open_home("alice")
        await ls.wait_for(lambda: len(seen) == 3, what="the second opening")

    first, click, second = seen
    assert (first["type"], first["user"], first["channel"], first["tab"]) == (
        "app_home_opened",
        "U0ALICE",
        "D0ALICE",
        "home",
    )
    assert "view" not in first and second["view"]["id"] == home["id"]
    assert click["type"] == "block_actions"
    assert click["container"] == {"type": "view", "view_id": home["id"]}
    assert click["view"]["type"] == "home" and "channel" not in click
    assert click["actions"][0]["value"] == "A1"


async def test_views_are_checked_as_slack_checks_them(
    ls: LocalSlack, client: AsyncWebClient
) -> None:
    long_title = {**REASON_MODAL, "title": {"type": "plain_text", "text": "x" * 25}}
    no_submit = {k: v for k, v in REASON_MODAL.items() if k != "submit"}
    with pytest.raises(SlackApiError) as refused:
        await client.views_publish(user_id="U0NOBODY", view={"type": "home", "blocks": []})
    assert refused.value.response["error"] == "user_not_found"
    for bad in (long_title, no_submit, {**REASON_MODAL, "type": "home"}):
        with pytest.raises(SlackApiError) as refused:
            await client.views_open(trigger_id="nonsense", view=bad)
        assert refused.value.response["error"] == "invalid_arguments"
    with pytest.raises(SlackApiError) as refused:
        await client.views_open(trigger_id="nonsense", view=REASON_MODAL)
    assert refused.value.response["error"] == "invalid_trigger_id"
    published = await client.views_publish(user_id="U0ERIN", view={"type": "home", "blocks": []})
    stale = str(published["view"]["hash"])
    await client.views_publish(user_id="U0ERIN", view={"type": "home", "blocks": [BUTTON]})
    with pytest.raises(SlackApiError) as refused:
        await client.views_publish(
            user_id="U0ERIN", view={"type": "home", "blocks": []}, hash=stale
        )
    assert refused.value.response["error"] == "hash_conflict"


SHORTCUTS = {"features": {"shortcuts": [{"type": "message", "callback_id": "ask", "name": "Ask"}]}}


async def test_shortcut_opens_a_modal_whose_submission_answers_with_errors_then_closes() -> None:
    async with LocalSlack(config_from_manifest(SHORTCUTS, FAST)) as ls:
        await _shortcut_then_modal(ls)


async def _shortcut_then_modal(ls: LocalSlack) -> None:
    app = bolt_app(ls)
    bodies: list[dict[str, Any]] = []

    @app.shortcut("ask")
    async def ask(ack: Any, shortcut: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        bodies.append(shortcut)
        await client.views_open(trigger_id=shortcut["trigger_id"], view=REASON_MODAL)
        with pytest.raises(SlackApiError) as spent:  # a trigger opens one modal
            await client.views_open(trigger_id=shortcut["trigger_id"], view=REASON_MODAL)
        bodies.append({"second_open": spent.value.response["error"]})

    @app.view("why")
    async def why(ack: Any, view: dict[str, Any]) -> None:
        text = view["state"]["values"]["reason"]["text"]["value"]
        bodies.append(view)
        if len(text) < 5:
            await ack(response_action="errors", errors={"reason": "Say a little more."})
        else:
            await ack()

    async with serve_bolt(app) as url:
        await ls.use_http(url, verify=False)
        parent = await ls.post("cara", "support", "my card was charged twice")
        await ls.shortcut("erin", "support", parent, "ask")
        modal = await ls.wait_for_modal("erin")
        assert ls.modal("cara") is None
        shown = await ls.submit_view("erin", modal["id"], {"reason": {"text": ""}})
        assert shown is not None and shown["errors"] == {
            "reason": "Please complete this required field."
        }
        shown = await ls.submit_view("erin", modal["id"], {"reason": {"text": "no"}})
        assert shown is not None and shown["errors"] == {"reason": "Say a little more."}
        assert (
            await ls.submit_view("erin", modal["id"], {"reason": {"text": "a duplicate"}}) is None
        )
        assert ls.modal("erin") is None

    shortcut, second, short, final = bodies
    assert shortcut["type"] == "message_action" and shortcut["callback_id"] == "ask"
    assert shortcut["user"]["id"] == "U0ERIN" and shortcut["channel"]["id"] == "C0SUPPORT"
    assert shortcut["message_ts"] == parent and shortcut["message"]["user"] == "U0CARA"
    assert shortcut["response_url"].startswith(ls.url)
    assert second == {"second_open": "exchanged_trigger_id"}
    assert short["state"]["values"]["reason"]["text"]["value"] == "no"  # the empty one never came
    assert final["callback_id"] == "why" and final["private_metadata"] == "A1"
    assert final["state"]["values"]["reason"]["text"] == {
        "type": "plain_text_input",
        "value": "a duplicate",
    }


async def test_assistant_thread_prompts_title_over_socket_mode() -> None:
    async with LocalSlack(FAST) as ls:
        app = bolt_app(ls)
        client = app.client
        started: list[dict[str, Any]] = []
        said: list[dict[str, Any]] = []

        @app.event("assistant_thread_started")
        async def on_start(event: dict[str, Any]) -> None:
            thread = event["assistant_thread"]
            started.append(thread)
            prompts = [{"title": f"Prompt {n}", "message": f"question {n}"} for n in range(3)]
            await client.assistant_threads_setSuggestedPrompts(
                channel_id=thread["channel_id"],
                thread_ts=thread["thread_ts"],
                prompts=prompts,
                title="Try",
            )

        @app.event("message")
        async def on_message(event: dict[str, Any]) -> None:
            said.append(event)
            await client.assistant_threads_setTitle(
                channel_id=event["channel"], thread_ts=event["thread_ts"], title=event["text"]
            )

        ls.use_socket_mode()
        handler = AsyncSocketModeHandler(app, ls.app_token)
        await handler.connect_async()
        try:
            thread = await ls.open_assistant("bob", "billing")
            await ls.wait_for(lambda: ls.assistant("D0BOB", thread["thread_ts"])["prompts"])
            await ls.pick_prompt("D0BOB", thread["thread_ts"], 2)
            await ls.wait_for(
                lambda: ls.assistant("D0BOB", thread["thread_ts"])["title"] == "question 2"
            )
            with pytest.raises(SlackApiError) as refused:
                await client.assistant_threads_setSuggestedPrompts(
                    channel_id="C0SUPPORT", thread_ts=thread["thread_ts"], prompts=[]
                )
            assert refused.value.response["error"] == "channel_not_found"
            with pytest.raises(SlackApiError) as refused:
                await client.assistant_threads_setSuggestedPrompts(
                    channel_id="D0BOB",
                    thread_ts=thread["thread_ts"],
                    prompts=[{"title": "t", "message": "m"}] * 5,
                )
            assert refused.value.response["error"] == "invalid_arguments"
        finally:
            await handler.close_async()

    assert started == [
        {
            "user_id": "U0BOB",
            "context": {"channel_id": "C0BILLING", "team_id": "T0LOCAL", "enterprise_id": None},
            "channel_id": "D0BOB",
            "thread_ts": thread["thread_ts"],
        }
    ]
    (message,) = said
    assert (message["channel_type"], message["thread_ts"], message["user"]) == (
        "im",
        thread["thread_ts"],
        "U0BOB",
    )


def test_a_manifest_decides_what_is_delivered_and_shown() -> None:
    manifest = {
        "features": {
            "app_home": {"home_tab_enabled": False},
            "slash_commands": [{"command": "/helper", "description": "d"}],
        },
        "settings": {"event_subscriptions": {"bot_events": ["app_mention", "message.im"]}},
    }
    config = config_from_manifest(manifest)
    assert config.event_subscriptions == ("app_mention", "message.im")
    assert config.slash_command == "/helper"
    assert (config.home_tab, config.assistant, config.message_shortcuts) == (False, False, ())
