"""The Web API subset, through slack_sdk's AsyncWebClient and raw HTTP."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack, LocalSlackConfig, RateLimitRule

BUTTON_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Refund* of $120?"}},
    {
        "type": "actions",
        "block_id": "approval",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "text": {"type": "plain_text", "text": "Approve"},
                "style": "primary",
                "value": "refund-42",
            }
        ],
    },
]


async def test_auth_test_names_the_bot(ls: LocalSlack, client: AsyncWebClient) -> None:
    resp = await client.auth_test()
    assert resp["ok"] is True
    assert resp["user_id"] == ls.bot_user_id
    assert resp["bot_id"] == "B0SWITCHBOARD"
    assert resp["team_id"] == "T0LOCAL"


async def test_auth_errors(ls: LocalSlack) -> None:
    with pytest.raises(SlackApiError) as missing:
        await AsyncWebClient(base_url=ls.api_url).auth_test()
    assert missing.value.response["error"] == "not_authed"
    with pytest.raises(SlackApiError) as wrong:
        await AsyncWebClient(token="xoxb-nope", base_url=ls.api_url).auth_test()
    assert wrong.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as app_token:
        await AsyncWebClient(token=ls.app_token, base_url=ls.api_url).auth_test()
    assert app_token.value.response["error"] == "not_allowed_token_type"


async def test_post_in_thread_with_metadata_is_returned_by_replies_and_history(
    ls: LocalSlack, client: AsyncWebClient
) -> None:
    parent = await ls.post("alice", "support", "customer wants a refund")
    metadata = {"event_type": "switchboard_turn", "event_payload": {"route": "billing"}}
    resp = await client.chat_postMessage(
        channel="C0SUPPORT",
        thread_ts=parent,
        text="On it",
        blocks=BUTTON_BLOCKS,
        metadata=metadata,
    )
    assert resp["ts"] > parent
    assert resp["message"]["bot_id"] == "B0SWITCHBOARD"
    replies = await client.conversations_replies(channel="C0SUPPORT", ts=parent)
    messages = replies["messages"]
    assert [m["ts"] for m in messages] == [parent, resp["ts"]]
    assert messages[0]["reply_count"] == 1
    assert messages[1]["metadata"] == metadata
    assert messages[1]["thread_ts"] == parent
    top = await client.chat_postMessage(channel="support", text="digest", metadata=metadata)
    history = await client.conversations_history(channel="C0SUPPORT")
    assert history["messages"][0]["ts"] == top["ts"]
    assert history["messages"][0]["metadata"] == metadata


async def test_message_errors(client: AsyncWebClient) -> None:
    cases = [
        ({"channel": "C0GENERAL", "text": "hi"}, "not_in_channel"),
        ({"channel": "C0NOPE", "text": "hi"}, "channel_not_found"),
        ({"channel": "C0SUPPORT", "text": "x" * 40_001}, "msg_too_long"),
        ({"channel": "C0SUPPORT", "text": "t", "blocks": [{"type": "nope"}]}, "invalid_blocks"),
    ]
    for kwargs, error in cases:
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(**kwargs)  # type: ignore[arg-type]
        assert caught.value.response["error"] == error
    with pytest.raises(SlackApiError) as empty:
        await client.api_call("chat.postMessage", json={"channel": "C0SUPPORT"})
    assert empty.value.response["error"] == "no_text"


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [
        ([{"type": "divider"}] * 51, "/blocks"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "/blocks/0/text"),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "a",
                            "text": {"type": "plain_text", "text": "x" * 76},
                        }
                    ],
                }
            ],
            "/blocks/0/elements/0/text/text",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "a",
                            "text": {"type": "plain_text", "text": "ok"},
                            "value": "v" * 2001,
                        }
                    ],
                }
            ],
            "/blocks/0/elements/0/value",
        ),
    ],
)
async def test_block_limits(
    client: AsyncWebClient, blocks: list[dict[str, object]], pointer: str
) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="C0SUPPORT", text="t", blocks=blocks)
    assert caught.value.response["error"] == "invalid_blocks"
    assert any(pointer in e for e in caught.value.response["errors"])


async def test_update_with_text_only_removes_blocks(ls: LocalSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0SUPPORT", text="card", blocks=BUTTON_BLOCKS)
    await client.chat_update(channel="C0SUPPORT", ts=posted["ts"], text="Approved by Alice")
    (message,) = ls.history("support")
    assert message["text"] == "Approved by Alice"
    assert "blocks" not in message


async def test_form_encoded_with_token_param(ls: LocalSlack) -> None:
    async with aiohttp.ClientSession() as session:
        form = {"token": ls.bot_token, "channel": "C0ONCALL", "text": "paging"}
        async with session.post(ls.api_url + "chat.postMessage", data=form) as resp:
            body = await resp.json()
        assert body["ok"] is True
        async with session.post(ls.api_url + "chat.update", data={"token": ls.bot_token}) as resp:
            bad = await resp.json()
    assert bad["error"] == "invalid_arguments"
    assert ls.history("oncall")[0]["text"] == "paging"


async def test_rate_limit_answers_429_with_retry_after() -> None:
    config = LocalSlackConfig(rate_limits={"chat.postMessage": RateLimitRule(1.0, 1)})
    async with LocalSlack(config) as ls:
        client = AsyncWebClient(token=ls.bot_token, base_url=ls.api_url)
        await client.chat_postMessage(channel="C0SUPPORT", text="one")
        await client.chat_postMessage(channel="C0BILLING", text="other channel is fine")
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel="C0SUPPORT", text="two")
        assert caught.value.response.status_code == 429
        assert caught.value.response.headers["Retry-After"] == "1"
        assert caught.value.response["error"] == "ratelimited"
        assert [h.method for h in ls.rate_limit_hits] == ["chat.postMessage"]


async def test_slack_sdk_rate_limit_handler_backs_off_and_succeeds() -> None:
    config = LocalSlackConfig(rate_limits={"chat.postMessage": RateLimitRule(2.0, 1)})
    async with LocalSlack(config) as ls:
        client = AsyncWebClient(token=ls.bot_token, base_url=ls.api_url)
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        await client.chat_postMessage(channel="C0SUPPORT", text="one")
        second = await client.chat_postMessage(channel="C0SUPPORT", text="two")
        assert second["ok"] is True
        assert len(ls.rate_limit_hits) == 1
        assert [m["text"] for m in ls.history("support")] == ["one", "two"]


async def test_rate_limits_can_be_disabled() -> None:
    async with LocalSlack(LocalSlackConfig(rate_limits_enabled=False)) as ls:
        client = AsyncWebClient(token=ls.bot_token, base_url=ls.api_url)
        for i in range(5):
            await client.chat_postMessage(channel="C0SUPPORT", text=f"n{i}")
        assert ls.rate_limit_hits == []


async def test_three_step_file_upload_shares_into_thread(
    ls: LocalSlack, client: AsyncWebClient
) -> None:
    parent = await ls.post("bob", "billing", "chart please")
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    resp = await client.files_upload_v2(
        channel="C0BILLING",
        thread_ts=parent,
        content=png,
        filename="chart.png",
        title="Weekly chart",
        initial_comment="Here is the chart",
    )
    file_id = resp["file"]["id"]
    (_, reply) = ls.thread("billing", parent)
    assert reply["files"][0]["id"] == file_id
    assert reply["text"] == "Here is the chart"
    async with (
        aiohttp.ClientSession() as session,
        session.get(reply["files"][0]["url_private"]) as got,
    ):
        assert got.content_type == "image/png"
        assert await got.read() == png


async def test_reads_users_groups_channels_and_permalink(client: AsyncWebClient) -> None:
    user = await client.users_info(user="U0DEV")
    assert user["user"]["real_name"] == "Dev Patel"
    leads = await client.usergroups_users_list(usergroup="S0SUPLEADS")
    assert leads["users"] == ["U0ALICE", "U0ERIN"]
    info = await client.conversations_info(channel="C0GENERAL")
    assert info["channel"]["name"] == "general"
    assert info["channel"]["is_member"] is False
    posted = await client.chat_postMessage(channel="C0SUPPORT", text="link me")
    link = await client.chat_getPermalink(channel="C0SUPPORT", message_ts=posted["ts"])
    assert "/archives/C0SUPPORT/p" in link["permalink"]


async def test_ephemeral_reaction_and_status(ls: LocalSlack, client: AsyncWebClient) -> None:
    ts = await ls.post("cara", "support", "is the API down?")
    await client.chat_postEphemeral(channel="C0SUPPORT", user="U0CARA", text="only you")
    assert [e["text"] for e in ls.ephemerals("cara", "support")] == ["only you"]
    assert ls.ephemerals("bob", "support") == []
    await client.reactions_add(channel="C0SUPPORT", timestamp=ts, name="eyes")
    assert ls.history("support")[0]["reactions"][0]["name"] == "eyes"
    await client.assistant_threads_setStatus(
        channel_id="C0SUPPORT", thread_ts=ts, status="is thinking..."
    )
    assert ls.status("support", ts) == "is thinking..."
    await client.chat_postMessage(channel="C0SUPPORT", thread_ts=ts, text="No, all green.")
    assert ls.status("support", ts) == ""


async def test_pagination_with_cursor(client: AsyncWebClient, ls: LocalSlack) -> None:
    for i in range(5):
        await ls.post("alice", "general", f"m{i}")
    ls.workspace.channels["C0GENERAL"].members.add(ls.bot_user_id)
    first = await client.conversations_history(channel="C0GENERAL", limit=3)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3", "m2"]
    assert first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    second = await client.conversations_history(channel="C0GENERAL", limit=3, cursor=cursor)
    assert [m["text"] for m in second["messages"]] == ["m1", "m0"]
    assert second["has_more"] is False
