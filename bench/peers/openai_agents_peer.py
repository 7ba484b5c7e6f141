"""The OpenAI Agents SDK's side of the peer benchmark: a router agent with hand-offs to four.

Run by bench/peers.py under bench/.venv-peers (its import name is `agents`, like our package,
so this runs in its own process with a path that does not hold ours):
    python bench/peers/openai_agents_peer.py JOB.json OUT.json --store sqlite|memory
        [--model-speed URL]

A router agent hands off to one of four specialists, each with one function tool, all on a
custom `Model` that returns scripted `ModelResponse`s with zero latency. The router hands the
message to the specialist its label names (scripted, so it always routes right); the specialist
calls its tool once and answers, which ends the run. Each message gets its own `SQLiteSession`
(a file, or ":memory:"). Tracing is off: it would try to export to OpenAI. The scripted model is
the SDK's model layer, so its time is the like-for-like figure's model time too.

With --model-speed URL, every agent uses the SDK's chat-completions model on an AsyncOpenAI
client at that OpenAI-compatible server, and runs with `Runner.run_streamed`: the first visible
text is the first text delta of the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import agents as sdk

if "site-packages" not in (sdk.__file__ or ""):
    raise SystemExit(f"`agents` resolved to {sdk.__file__}, not the OpenAI Agents SDK")

from _common import (
    ROUTER_INSTRUCTIONS,
    SPECIALISTS,
    Meter,
    answer,
    load_job,
    measure,
    measure_speed,
    prompt_chars,
    synchronous,
    tool_output,
    write_result,
)
from agents.agent_output import AgentOutputSchemaBase
from agents.models.chatcmpl_converter import Converter
from agents.models.interface import Model, ModelTracing

from agents import (
    Agent,
    FunctionTool,
    Handoff,
    ModelResponse,
    ModelSettings,
    RunConfig,
    Runner,
    SQLiteSession,
    Usage,
    function_tool,
    set_tracing_disabled,
)
from agents.testing import assistant_message, function_call

ROUTER = "router"


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else getattr(item, key, None)


class ScriptedModel(Model):
    """Plays one part with zero latency and counts what it is sent (as chat-completions JSON)."""

    def __init__(self, role: str, meter: Meter, routes: dict[str, str]) -> None:
        self.role = role
        self.meter = meter
        self.routes = routes

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[Any],
        model_settings: ModelSettings,
        tools: list[Any],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff[Any, Any]],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: Any | None,
        **kwargs: Any,
    ) -> ModelResponse:
        started = time.perf_counter()
        items: list[Any] = (
            [{"role": "user", "content": input}] if isinstance(input, str) else list(input)
        )
        last_user = max(i for i, item in enumerate(items) if _get(item, "role") == "user")
        user = str(_get(items[last_user], "content"))
        since = items[last_user + 1 :]
        if self.role == ROUTER:
            target = self.routes[user]
            handoff = next(h for h in handoffs if h.agent_name == target)
            output = [function_call(handoff.tool_name, {}, call_id=_id())]
        else:
            spec = SPECIALISTS[self.role]
            mine = {
                _get(i, "call_id")
                for i in since
                if _get(i, "type") == "function_call" and _get(i, "name") == spec.tool
            }
            done = [
                i
                for i in since
                if _get(i, "type") == "function_call_output" and _get(i, "call_id") in mine
            ]
            if done:
                text = answer(self.role, str(_get(done[-1], "output")))
                output = [assistant_message(text, item_id=_id())]
            else:
                output = [function_call(spec.tool, {"query": user}, call_id=_id())]
        wire: list[Any] = [{"role": "system", "content": system_instructions or ""}]
        wire += Converter.items_to_messages(items)
        schemas: list[Any] = [Converter.tool_to_openai(t) for t in tools]
        schemas += [Converter.convert_handoff_tool(h) for h in handoffs]
        self.meter.record(self.role, *prompt_chars(wire, schemas), started)
        self.meter.layer_s += time.perf_counter() - started
        return ModelResponse(output=output, usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise NotImplementedError("the benchmark does not stream")


def _id() -> str:
    return f"call_{uuid.uuid4().hex[:12]}"


def specialist_tool(route: str) -> FunctionTool:
    spec = SPECIALISTS[route]

    async def run(query: str) -> str:
        return json.dumps(tool_output(route, query))

    run.__name__ = spec.tool
    run.__doc__ = spec.tool_description
    return function_tool(run, name_override=spec.tool, description_override=spec.tool_description)


def session_synchronous(db_path: str) -> str:
    """How a SQLiteSession's own connection syncs (it opens them; we only read the setting)."""
    session = SQLiteSession("pragma-probe", db_path)
    try:
        with session._locked_connection() as conn:
            return synchronous(conn.execute("PRAGMA synchronous").fetchone()[0])
    except (AttributeError, sqlite3.Error):
        return "unknown"
    finally:
        session.close()


def build(meter: Meter, routes: dict[str, str]) -> Agent[Any]:
    specialists = [
        Agent(
            name=route,
            handoff_description=spec.description,
            instructions=spec.instructions,
            tools=[specialist_tool(route)],
            model=ScriptedModel(route, meter, routes),
        )
        for route, spec in SPECIALISTS.items()
    ]
    return Agent(
        name=ROUTER,
        instructions=ROUTER_INSTRUCTIONS,
        handoffs=list(specialists),
        model=ScriptedModel(ROUTER, meter, routes),
    )


async def model_speed(job: dict[str, Any], url: str, out: str) -> None:
    from openai import AsyncOpenAI

    from agents import (
        OpenAIChatCompletionsModel,
        RawResponsesStreamEvent,
        set_default_openai_client,
    )

    client = AsyncOpenAI(base_url=url, api_key="sk-bench", max_retries=0)
    set_default_openai_client(client, use_for_tracing=False)
    model = OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=client)
    specialists = [
        Agent(
            name=route,
            handoff_description=spec.description,
            instructions=spec.instructions,
            tools=[specialist_tool(route)],
            model=model,
        )
        for route, spec in SPECIALISTS.items()
    ]
    router = Agent(
        name=ROUTER, instructions=ROUTER_INSTRUCTIONS, handoffs=list(specialists), model=model
    )
    config = RunConfig(tracing_disabled=True)
    with tempfile.TemporaryDirectory(prefix="openai-agents-peer-") as folder:
        db_path = str(Path(folder) / "sessions.db")

        async def shown(text: str, route: str, thread: str) -> float | None:
            session = SQLiteSession(thread, db_path)
            first = None
            try:
                run = Runner.run_streamed(router, text, session=session, run_config=config)
                async for event in run.stream_events():
                    data = getattr(event, "data", None)
                    text = getattr(data, "type", "") == "response.output_text.delta"
                    if first is None and isinstance(event, RawResponsesStreamEvent) and text:
                        first = time.monotonic() if getattr(data, "delta", "") else None
            finally:
                session.close()
            return first

        result = await measure_speed("openai-agents", shown, job)
    result["versions"] = {"openai-agents": version("openai-agents")}
    write_result(out, result)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("job")
    parser.add_argument("out")
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    parser.add_argument("--model-speed", metavar="URL")
    args = parser.parse_args()
    set_tracing_disabled(True)
    job = load_job(args.job)
    routes = {m["text"]: m["route"] for key in ("warmup", "messages") for m in job[key]}
    meter = Meter()
    if args.model_speed:
        await model_speed(job, args.model_speed, args.out)
        return
    router = build(meter, routes)
    config = RunConfig(tracing_disabled=True)
    answers = {"right": 0, "wrong": 0}

    with tempfile.TemporaryDirectory(prefix="openai-agents-peer-") as folder:
        db_path = str(Path(folder) / "sessions.db") if args.store == "sqlite" else ":memory:"

        async def handle(text: str, route: str, thread: str) -> None:
            session = SQLiteSession(thread, db_path)
            try:
                result = await Runner.run(router, text, session=session, run_config=config)
            finally:
                session.close()
            answers["right" if f"for {route}," in str(result.final_output) else "wrong"] += 1

        result = await measure(f"openai-agents ({args.store})", handle, meter, job)
        if args.store == "sqlite":
            result["sqlite_synchronous"] = session_synchronous(db_path)
    result["answers"] = answers
    result["versions"] = {"openai-agents": version("openai-agents")}
    write_result(args.out, result)


if __name__ == "__main__":
    asyncio.run(main())
