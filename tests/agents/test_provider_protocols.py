"""The LLM layer on litellm's OpenAI and Anthropic routes: whole answers, streams, every failure.

Each test scripts a local server speaking the provider's own protocol (`tests.helpers.providers`) and
calls `LLM.complete` as the agent loop does. Failures are told apart by kind, as the provider
edges require: a refused key or an unknown model stops the model at once, a rate limit or a 5xx
(Anthropic's 529 "overloaded" too) is retried, a bad request is not, a hang or a stream that
stalls mid-way is cut short, and the offline model answers with the turn marked degraded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from structlog.testing import capture_logs

from agents.budget import turn_budget
from agents.llm import LLM, LLMSettings
from agents.offline import OfflineRequest, OfflineStep, install_policy
from tests.helpers.providers.anthropic_server import AnthropicServer
from tests.helpers.providers.openai_server import OpenAIServer
from tests.helpers.providers.script import Call, ScriptedServer, Step, serving

MODELS = {"openai": "openai/gpt-4o-mini", "anthropic": "anthropic/claude-3-5-haiku-latest"}
ASK = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "INV-1024?"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_invoice",
            "description": "An invoice by its number.",
            "parameters": {
                "type": "object",
                "properties": {"invoice": {"type": "string"}},
                "required": ["invoice"],
            },
        },
    }
]


def _offline(request: OfflineRequest) -> OfflineStep:
    return OfflineStep(text="offline answer")


OFFLINE = install_policy("provider-protocols", _offline)


@dataclass
class Heard:
    """A listener that keeps what it heard."""

    deltas: list[str]
    restarts: int = 0

    async def delta(self, text: str) -> None:
        self.deltas.append(text)

    async def restart(self) -> None:
        self.restarts += 1


@pytest.fixture(params=["openai", "anthropic"])
async def served(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[str, ScriptedServer]]:
    name = str(request.param)
    server: ScriptedServer = OpenAIServer() if name == "openai" else AnthropicServer()
    async with serving(server):
        monkeypatch.setenv("OPENAI_API_BASE", f"{server.url}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-protocols-0123456789")
        monkeypatch.setenv("ANTHROPIC_API_BASE", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-protocols-0123456789")
        yield MODELS[name], server
        server.assert_done()


def llm() -> LLM:
    return LLM(LLMSettings(timeout=1.0, retries=1, backoff=0.01, failure_budget=3.0))


async def test_a_whole_answer_with_two_tool_calls_and_usage(
    served: tuple[str, ScriptedServer],
) -> None:
    model, server = served
    calls = (Call.of("get_invoice", invoice="INV-1024"), Call.of("get_invoice", invoice="INV-1"))
    server.script(Step(calls=calls, prompt_tokens=200, completion_tokens=40))
    completion = await llm().complete(model, ASK, tools=TOOLS, offline_model=OFFLINE)
    assert [(c.name, c.arguments) for c in completion.tool_calls] == [
        ("get_invoice", '{"invoice": "INV-1024"}'),
        ("get_invoice", '{"invoice": "INV-1"}'),
    ]
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (200, 40)
    assert not completion.streamed and not completion.degraded
    assert not server.requests[0].streamed


async def test_a_streamed_answer_is_heard_as_it_comes_and_counted(
    served: tuple[str, ScriptedServer],
) -> None:
    model, server = served
    server.script(Step(text="Invoice INV-1024 is paid.", prompt_tokens=300, completion_tokens=9))
    heard = Heard([])
    completion = await llm().complete(model, ASK, offline_model=OFFLINE, listener=heard)
    assert heard.deltas == ["Invoice", " INV-1024", " is", " paid."]
    assert completion.content == "Invoice INV-1024 is paid." and completion.streamed
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (300, 9)
    body = server.requests[0].body
    assert body["stream"] is True
    if model.startswith("openai/"):  # OpenAI sends usage in a stream only when asked to
        assert body["stream_options"] == {"include_usage": True}
        assert completion.usage.cost_usd == pytest.approx((300 * 0.15 + 9 * 0.6) / 1e6)


async def test_a_streamed_tool_call(served: tuple[str, ScriptedServer]) -> None:
    model, server = served
    server.script(Step(text="Let me look.", calls=(Call.of("get_invoice", invoice="INV-7"),)))
    heard = Heard([])
    completion = await llm().complete(
        model, ASK, tools=TOOLS, offline_model=OFFLINE, listener=heard
    )
    assert "".join(heard.deltas) == "Let me look."
    [call] = completion.tool_calls
    assert (call.name, call.arguments) == ("get_invoice", '{"invoice": "INV-7"}')


@pytest.mark.parametrize(
    ("fail", "kind", "asked"),
    [
        ("401", "auth", 1),
        ("403", "auth", 1),
        ("404", "not_found", 1),
        ("400", "bad_request", 1),
        ("429", "rate_limit", 2),
        ("500", "server", 2),
        ("529", "server", 2),
        ("hang", "timeout", 1),
    ],
)
async def test_each_failure_by_its_kind(
    served: tuple[str, ScriptedServer], fail: str, kind: str, asked: int
) -> None:
    model, server = served
    server.script(*[Step(fail=fail) for _ in range(asked)])  # type: ignore[arg-type]
    with capture_logs() as logs, turn_budget(30):
        completion = await llm().complete(model, ASK, offline_model=OFFLINE, listener=Heard([]))
    assert completion.degraded and completion.content == "offline answer"
    assert len(server.requests) == asked
    [failed] = [e for e in logs if e["event"] == "llm.model_failed"]
    assert failed["kind"] == kind
    assert "sk-test-protocols" not in repr(logs) and "sk-ant-test" not in repr(logs)


async def test_a_stream_that_stalls_mid_way_is_cut_short_and_said_again(
    served: tuple[str, ScriptedServer],
) -> None:
    model, server = served
    server.script(
        Step(text="Invoice INV-1024 was charged twice. Here is why", stall_after=3),
        Step(text="Invoice INV-1024 was charged twice, once by mistake."),
    )
    heard = Heard([])
    # A roomier budget than llm()'s: the first call of a process may pay litellm's lazy imports.
    patient = LLM(LLMSettings(timeout=2.0, retries=1, backoff=0.01, failure_budget=10.0))
    with turn_budget(30):
        completion = await patient.complete(model, ASK, offline_model=OFFLINE, listener=heard)
    assert heard.restarts == 1, "the listener forgets the attempt that stalled"
    assert completion.content == "Invoice INV-1024 was charged twice, once by mistake."
    assert not completion.degraded
