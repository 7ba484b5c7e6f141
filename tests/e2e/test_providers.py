"""Real turns through litellm's own OpenAI and Anthropic routes, configured as users do.

The bot runs unchanged with `SWITCHBOARD_MODEL=openai/gpt-4o-mini` (`OPENAI_API_BASE`,
`OPENAI_API_KEY`) or `anthropic/claude-3-5-haiku-latest` (`ANTHROPIC_API_BASE`,
`ANTHROPIC_API_KEY`), against a local server speaking that provider's protocol and answering
what each test scripts, in order (an unscripted call fails the test). Verified with litellm
1.105.7 (the version in `pyproject.toml`'s pin).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from agents.agent import IN_THEIR_LANGUAGE
from agents.claims import REMOVED_NOTE
from localslack import LocalSlack
from localslack.state import Change
from tests.helpers.harness import bot, bot_messages, settings_for, settled
from tests.helpers.providers.anthropic_server import AnthropicServer
from tests.helpers.providers.openai_server import OpenAIServer
from tests.helpers.providers.script import Call, ScriptedServer, Step, serving

MODELS = {"openai": "openai/gpt-4o-mini", "anthropic": "anthropic/claude-3-5-haiku-latest"}
EXPLAIN = "Why was invoice INV-1024 charged after we cancelled?"
ANSWER = (
    "Invoice INV-1024 was charged on 1 March for the Team plan, before the cancellation took "
    "effect. The cancellation applies from the next billing period, so this charge stands. "
    "If you want, I can ask for a refund to be reviewed."
)


@dataclass
class Provider:
    name: str
    model: str
    server: ScriptedServer

    def tool_results(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The tool results a request carries, as (id, content) in both protocols."""
        out: list[dict[str, Any]] = []
        for message in body["messages"]:
            if message.get("role") == "tool":
                out.append({"id": message["tool_call_id"], "content": message["content"]})
            elif isinstance(message.get("content"), list):
                out += [
                    {"id": b["tool_use_id"], "content": _text_of(b.get("content"))}
                    for b in message["content"]
                    if b.get("type") == "tool_result"
                ]
        return out

    def system(self, body: dict[str, Any]) -> str:
        if self.name == "anthropic":
            system = body.get("system")
            return system if isinstance(system, str) else json.dumps(system)
        return str(body["messages"][0]["content"])


def _text_of(content: Any) -> str:
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content)
    return str(content)


@pytest.fixture(params=["openai", "anthropic"])
async def provider(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Provider]:
    name = str(request.param)
    server: ScriptedServer = OpenAIServer() if name == "openai" else AnthropicServer()
    async with serving(server):
        if name == "openai":
            monkeypatch.setenv("OPENAI_API_BASE", f"{server.url}/v1")
            monkeypatch.setenv("OPENAI_API_KEY", "sk-test-providers")
        else:
            monkeypatch.setenv("ANTHROPIC_API_BASE", server.url)
            monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-providers")
        yield Provider(name, MODELS[name], server)
        server.assert_done()


def asks_with_tool_results(
    provider: Provider, check: Callable[[list[dict[str, Any]]], None]
) -> Callable[[dict[str, Any]], None]:
    def checked(body: dict[str, Any]) -> None:
        check(provider.tool_results(body))

    return checked


async def ask(slack: LocalSlack, text: str, *, who: str = "bob") -> str:
    return await slack.post(who, "support", f"<@{slack.bot_user_id}> {text}")


async def final_reply(slack: LocalSlack, ts: str) -> dict[str, Any]:
    """The reply once it is complete: the stream's end tags it with its outbox id."""
    return await slack.wait_for_bot_message(
        "support", thread_ts=ts, within=20, predicate=lambda m: bool(m.get("metadata"))
    )


def watch(slack: LocalSlack) -> list[tuple[float, Change]]:
    seen: list[tuple[float, Change]] = []
    slack.workspace.observe(lambda change: seen.append((time.monotonic(), change)))
    return seen


async def test_a_tool_call_then_an_answer_streamed_into_the_thread(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path, provider: Provider
) -> None:
    def first(body: dict[str, Any]) -> None:
        assert body.get("stream") is True
        if provider.name == "openai":
            assert body["stream_options"] == {"include_usage": True}
        assert IN_THEIR_LANGUAGE in provider.system(body)
        assert "explain_charge" in json.dumps(body["tools"])

    def second(results: list[dict[str, Any]]) -> None:
        assert [r["id"] for r in results] == ["call-explain"]
        assert "INV-1024" in results[0]["content"] and "185.00" in results[0]["content"]

    provider.server.script(
        Step(
            calls=(Call("explain_charge", '{"invoice": "INV-1024"}', "call-explain"),), check=first
        ),
        Step(
            text=ANSWER,
            per_chunk=0.04,
            prompt_tokens=900,
            completion_tokens=60,
            check=asks_with_tool_results(provider, second),
        ),
    )
    seen = watch(slack)
    settings = settings_for(slack, sqlite_url, tmp_path).with_env(model=provider.model)
    async with bot(slack, settings) as running:
        ts = await ask(slack, EXPLAIN)
        reply = await final_reply(slack, ts)
        await settled(running)
        thread = await running.board.store.memory.thread(slack.workspace.team_id, "C0SUPPORT", ts)
        assert thread.id is not None
        stored = (await running.board.store.memory.messages(thread.id))[-1]

    assert reply["text"].startswith(ANSWER)
    assert "Answered by *Billing*" in json.dumps(reply["blocks"])
    assert reply["metadata"]["event_type"] == "switchboard_outbox"
    assert len(bot_messages(slack, "support", ts)) == 1
    methods = [name for name, _ in slack.api_calls]
    assert methods.index("chat.startStream") < methods.index("chat.stopStream")
    assert "chat.postMessage" not in methods
    start = next(args for name, args in slack.api_calls if name == "chat.startStream")
    assert start["recipient_user_id"] == slack.workspace.user("bob").id
    assert start["recipient_team_id"] == slack.workspace.team_id
    texts = [c for _, c in seen if c.kind == "message_changed" and c.ts == reply["ts"]]
    # The stream opened with the first sentence and grew from there (appends, then its end).
    assert texts and start["markdown_text"].startswith("Invoice INV-1024 was charged on 1 March")
    assert len(start["markdown_text"]) < len(reply["text"]), "the page saw the reply grow"
    # The loading status was up before the first model call, and gone once the reply started.
    statuses = [(at, c.data["status"]) for at, c in seen if c.kind == "status"]
    assert statuses and statuses[0][0] < provider.server.requests[0].at
    assert statuses[0][1] == "is reading your message…"
    assert "is checking invoice INV-1024…" in [s for _, s in statuses]
    assert slack.status("support", ts) == ""
    assert "eyes" not in json.dumps(slack.thread("support", ts)[0].get("reactions", []))
    # Usage of both calls, and their cost from litellm's price list where it has the model.
    assert stored.role == "assistant" and stored.text.startswith(ANSWER)
    assert stored.prompt_tokens == 120 + 900 and stored.completion_tokens == 30 + 60
    if provider.name == "openai":
        assert stored.cost_usd == pytest.approx((1020 * 0.15 + 90 * 0.6) / 1e6)
    else:  # litellm 1.105.7's price list no longer has this retired alias: tokens, no price
        assert stored.cost_usd == 0.0


async def test_two_tool_calls_in_one_step(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path, provider: Provider
) -> None:
    def both(results: list[dict[str, Any]]) -> None:
        assert [r["id"] for r in results] == ["call-a", "call-b"]
        assert "INV-1024" in results[0]["content"] and "INV-1018" in results[1]["content"]

    provider.server.script(
        Step(
            calls=(
                Call("get_invoice", '{"invoice": "INV-1024"}', "call-a"),
                Call("get_invoice", '{"invoice": "INV-1018"}', "call-b"),
            )
        ),
        Step(
            text="INV-1024 is paid (€185.00); INV-1018 is paid ($199.00).",
            check=asks_with_tool_results(provider, both),
        ),
    )
    settings = settings_for(slack, sqlite_url, tmp_path).with_env(model=provider.model)
    async with bot(slack, settings) as running:
        ts = await ask(slack, "What is the status of invoices INV-1024 and INV-1018?")
        reply = await final_reply(slack, ts)
        await settled(running)
    assert reply["text"].startswith("INV-1024 is paid")


async def test_invalid_arguments_go_back_to_the_model_once(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path, provider: Provider
) -> None:
    def told(results: list[dict[str, Any]]) -> None:
        [result] = results
        assert json.loads(result["content"])["status"] == "invalid_arguments"
        assert "invoice" in result["content"]

    provider.server.script(
        Step(calls=(Call("get_invoice", '{"invoce": 1024}', "call-bad"),)),
        Step(
            text="Which invoice do you mean? Please give its number.",
            check=asks_with_tool_results(provider, told),
        ),
    )
    settings = settings_for(slack, sqlite_url, tmp_path).with_env(model=provider.model)
    async with bot(slack, settings) as running:
        ts = await ask(slack, "Why was my invoice charged twice?")
        reply = await final_reply(slack, ts)
        await settled(running)
    assert reply["text"].startswith("Which invoice do you mean?")


async def test_a_risky_tool_posts_a_card_and_runs_nothing(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path, provider: Provider
) -> None:
    refund = json.dumps(
        {
            "invoice": "INV-1018",
            "amount_cents": 19900,
            "currency": "USD",
            "customer_name": "Helix Analytics",
            "reason": "double charge",
        }
    )

    def waiting(results: list[dict[str, Any]]) -> None:
        assert json.loads(results[0]["content"])["status"] == "approval_requested"

    provider.server.script(
        Step(calls=(Call("issue_refund", refund, "call-refund"),)),
        Step(
            text="I've asked for a refund of $199.00 on INV-1018. The refund has been issued.",
            check=asks_with_tool_results(provider, waiting),
        ),
    )
    settings = settings_for(slack, sqlite_url, tmp_path).with_env(model=provider.model)
    async with bot(slack, settings) as running:
        ts = await ask(slack, "Please refund the double charge on INV-1018")
        reply = await final_reply(slack, ts)
        await settled(running)
        [approval] = await running.board.store.approvals.for_thread("C0SUPPORT", ts)
    assert "has been issued" not in reply["text"]
    assert REMOVED_NOTE in reply["text"] and "Waiting for approval" in reply["text"]
    cards = [m for m in bot_messages(slack, "support", ts) if "Approve" in json.dumps(m)]
    assert len(cards) == 1
    assert approval.status == "pending" and approval.tool == "issue_refund"
    assert slack.thread("support", ts).index(cards[0]) > slack.thread("support", ts).index(
        next(m for m in slack.thread("support", ts) if m.get("ts") == reply["ts"])
    ), "the card comes once the reply's text is complete"


@pytest.fixture
async def openai(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Provider]:
    """OpenAI only: for what the Slack side does, which is the same whichever model streams."""
    async with serving(OpenAIServer()) as server:
        monkeypatch.setenv("OPENAI_API_BASE", f"{server.url}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-providers")
        yield Provider("openai", MODELS["openai"], server)
        server.assert_done()


async def test_a_workspace_that_refuses_streams_gets_a_post_then_updates(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path, openai: Provider
) -> None:
    for method in ("chat.startStream", "chat.appendStream", "chat.stopStream"):
        del slack.parts.webapi.methods[method]  # an older workspace: unknown_method
    del slack.parts.webapi.methods["assistant.threads.setStatus"]
    openai.server.script(Step(text=ANSWER, per_chunk=0.03))
    settings = settings_for(slack, sqlite_url, tmp_path).with_env(model=openai.model)
    async with bot(slack, settings) as running:
        ts = await ask(slack, EXPLAIN)
        reply = await slack.wait_for_bot_message(
            "support",
            thread_ts=ts,
            within=20,
            predicate=lambda m: "Answered by" in json.dumps(m.get("blocks")),
        )
        await settled(running)
    assert reply["text"].startswith(ANSWER)
    assert len(bot_messages(slack, "support", ts)) == 1
    methods = [name for name, _ in slack.api_calls]
    assert methods.count("chat.postMessage") == 1 and "chat.update" in methods
    # No status in this workspace: the :eyes: reaction showed the turn was being worked on.
    assert tuple(m for m in methods if m.startswith("reactions.")) == (
        "reactions.add",
        "reactions.remove",
    )


async def test_a_crash_mid_stream_ends_with_one_complete_reply(
    slack: LocalSlack, sqlite_url: str, tmp_path: Path, openai: Provider
) -> None:
    openai.server.script(
        Step(text=ANSWER, stall_after=18),  # the first run shows a sentence, then dies
        Step(text=ANSWER),  # the turn again, after the crash
    )
    settings = settings_for(slack, sqlite_url, tmp_path).with_env(model=openai.model)
    async with bot(slack, settings, lease=timedelta(seconds=1)) as first:
        ts = await ask(slack, EXPLAIN)
        torn = await slack.wait_for_bot_message("support", thread_ts=ts, within=20)
        await first.board.worker.stop()  # like SIGKILL mid-stream: the row stays `streaming`
    assert not torn.get("metadata")
    async with bot(slack, settings, lease=timedelta(seconds=1)) as second:
        reply = await final_reply(slack, ts)
        await settled(second)
    assert reply["ts"] == torn["ts"], "the streamed message became the reply"
    assert reply["text"] == ANSWER or reply["text"].startswith(ANSWER)
    assert len(bot_messages(slack, "support", ts)) == 1
