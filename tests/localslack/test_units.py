"""Small pieces on their own: ids, signing, Block Kit checks, spec checks, serve()."""

from __future__ import annotations

import subprocess
import sys

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from localslack import LocalSlack, serve
from localslack.blocks import find_action, validate_blocks
from localslack.ids import TsClock, ts_key
from localslack.signing import signed_headers


def test_ts_clock_is_unique_and_increasing() -> None:
    clock = TsClock()
    stamps = [clock.next() for _ in range(1000)]
    assert len(set(stamps)) == 1000
    assert [ts_key(s) for s in stamps] == sorted(ts_key(s) for s in stamps)
    assert all(len(s.split(".")[1]) == 6 for s in stamps)


def test_signature_matches_slack_sdk_verifier() -> None:
    body = b'{"type":"event_callback"}'
    headers = signed_headers("s3cret", body, "application/json")
    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )


def test_block_checks_and_action_lookup() -> None:
    ok = [
        {"type": "header", "text": {"type": "plain_text", "text": "Refund"}},
        {
            "type": "section",
            "block_id": "s1",
            "text": {"type": "mrkdwn", "text": "hi"},
            "accessory": {
                "type": "button",
                "action_id": "go",
                "text": {"type": "plain_text", "text": "Go"},
                "value": "7",
            },
        },
    ]
    assert validate_blocks(ok) == []
    assert find_action(ok, "go") == ("s1", ok[1]["accessory"])
    assert find_action(ok, "missing") is None
    bad = validate_blocks([{"type": "section"}, {"type": "divider", "block_id": "s1"}] * 2)
    assert "must provide either text or fields [json-pointer:/blocks/0]" in bad
    assert any("duplicate block_id" in e for e in bad)


async def test_spec_types_and_required_arguments(ls: LocalSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as bad_limit:
        await client.conversations_history(channel="C0SUPPORT", limit="many")  # type: ignore[arg-type]
    assert bad_limit.value.response["error"] == "invalid_arguments"
    assert "must be an integer: limit" in str(bad_limit.value.response["response_metadata"])
    with pytest.raises(SlackApiError) as no_user:
        await client.api_call("chat.postEphemeral", json={"channel": "C0SUPPORT", "text": "x"})
    assert no_user.value.response["error"] == "invalid_arguments"
    with pytest.raises(SlackApiError) as no_group:
        await client.usergroups_users_list(usergroup="S0NOPE")
    assert no_group.value.response["error"] == "no_such_subteam"
    with pytest.raises(SlackApiError) as unknown:
        await client.api_call("chat.fly")
    assert unknown.value.response["error"] == "unknown_method"


async def test_serve_on_a_given_port_and_page_is_served() -> None:
    ls = await serve("127.0.0.1", 0)
    try:
        assert ls.port > 0
        assert ls.url == f"http://127.0.0.1:{ls.port}"
        assert ls.api_url.endswith("/api/")
        async with aiohttp.ClientSession() as session:
            async with session.get(ls.url + "/") as page:
                assert "localslack" in await page.text()
            async with session.get(ls.url + "/static/app.js") as script:
                assert script.status == 200
    finally:
        await ls.stop()


def test_module_entry_point_has_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "localslack", "--help"], capture_output=True, text=True, check=True
    )
    assert "--socket-mode" in out.stdout
