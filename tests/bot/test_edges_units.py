"""Small pure parts of the edges: request shapes, event kinds, Web API failure shapes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.slack import wire
from bot.slack.app import reject_malformed
from bot.slack.failures import describe_failure
from bot.slack.turns import classify


def event(**fields: Any) -> dict[str, Any]:
    base = {"type": "message", "user": "U1", "text": "hi", "ts": "1.000100", "channel": "C1"}
    return {**base, **fields}


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({}, "turn"),
        ({"subtype": "thread_broadcast", "thread_ts": "1.0"}, "turn"),
        ({"subtype": "file_share", "text": "", "files": [{"id": "F1"}]}, "turn"),
        ({"subtype": "bot_message", "bot_id": "B1"}, "ignore"),
        ({"subtype": "channel_join"}, "ignore"),
        ({"subtype": "message_changed"}, "edit"),
    ],
)
def test_which_messages_are_conversation(fields: dict[str, Any], kind: str) -> None:
    assert classify(event(**fields)).kind == kind


def envelope(**event_fields: Any) -> dict[str, Any]:
    return {"type": "event_callback", "event_id": "Ev1", "event": event(**event_fields)}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (envelope(), None),
        (envelope(thread_ts="1.000100"), None),
        (envelope(ts=None), "message ts is not a Slack timestamp"),
        (envelope(ts="yesterday"), "message ts is not a Slack timestamp"),
        (envelope(channel={"id": "C1"}), "message without a channel"),
        ({**envelope(), "event": "x"}, "event is a str, not a dict"),
        ({**envelope(), "authorizations": ["x"]}, "authorizations[0] is a str, not an object"),
        (
            {"type": "block_actions", "user": {"id": "U1"}, "actions": []},
            "block_actions without actions",
        ),
        ({"type": "dialog_submission"}, "type 'dialog_submission' is not handled here"),
        ({"type": "view_submission"}, "view_submission without a user id"),
        ({"command": "/switchboard", "text": "help"}, None),
        ([], "the body is not an object"),
    ],
)
def test_request_shapes(body: Any, problem: str | None) -> None:
    assert wire.problem(body) == problem


def response(data: Any, status: int) -> AsyncSlackResponse:
    return AsyncSlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data=data,
        headers={"Retry-After": "3"} if status == 429 else {},
        status_code=status,
    )


@pytest.mark.parametrize(
    ("exc", "code", "permanent", "maybe_done"),
    [
        (
            SlackApiError("x", response({"ok": False, "error": "channel_not_found"}, 200)),
            "channel_not_found",
            True,
            False,
        ),
        (
            SlackApiError("x", response({"ok": False, "error": "ratelimited"}, 429)),
            "ratelimited",
            False,
            False,
        ),
        (SlackApiError("x", response("upstream error", 503)), "http_503", False, True),
        (SlackApiError("x", response({}, 500)), "http_500", False, True),
        # A body that claims JSON and is not: the error holds aiohttp's response object.
        (
            SlackApiError("x", SimpleNamespace(status=200, headers={})),
            "empty_body_http_200",
            False,
            True,
        ),
        (aiohttp.ServerDisconnectedError(), "connection_ServerDisconnectedError", False, True),
        (TimeoutError(), "timeout", False, True),
    ],
)
def test_any_web_api_failure_has_a_code(
    exc: BaseException, code: str, permanent: bool, maybe_done: bool
) -> None:
    failure = describe_failure(exc)
    assert (failure.code, failure.permanent, failure.maybe_done) == (code, permanent, maybe_done)


async def test_socket_mode_payloads_of_a_wrong_shape_are_acked_quietly() -> None:
    called: list[bool] = []

    async def next_() -> None:
        called.append(True)

    quiet = await reject_malformed(
        {"type": "block_actions", "user": {"id": "U1"}, "actions": []}, next_
    )
    assert quiet is not None and quiet.status == 200 and called == []
    assert await reject_malformed(envelope(), next_) is None and called == [True]
