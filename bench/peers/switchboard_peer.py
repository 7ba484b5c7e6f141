"""Switchboard's side of the peer benchmark: the real Supervisor, Decider, Runner and LLM layer.

Run by bench/peers.py under the product's .venv:
    python bench/peers/switchboard_peer.py JOB.json OUT.json [--breakdown] [--model-speed URL]

Four agents, each with one low-risk tool, on a scripted zero-latency model registered as a
litellm custom provider (`bench/<agent>`), so every model call goes through litellm exactly as
in production. The model plays the same part as in the other peers: call the agent's tool
once, then answer from its output. Routing is the fast classifier's (no model call); the store
is a migrated SQLite file. With --breakdown, a second pass times the parts of a turn. The time
spent inside `litellm.acompletion` is recorded too, for the like-for-like overhead.

With --model-speed URL, the agents run on `openai/gpt-4o-mini` at that OpenAI-compatible server,
configured as users configure it (OPENAI_API_BASE, OPENAI_API_KEY), with the LLM route
classifier on; each reply streams into a thread of an in-process localslack through the real
`SlackStream`, and the first visible text is when localslack created the streamed message.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm is imported
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import litellm
import structlog
from _common import (
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
from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import ModelResponse
from pydantic import BaseModel, Field

from agents.agent import Agent
from agents.llm import LLM
from agents.offline import OfflineRequest, OfflineStep, fill_response, register_provider
from agents.runner import Runner
from agents.tool import Tool, ToolContext
from bot.slack.client import GuardedWebClient
from bot.slack.render import reply_messages
from bot.slack.status import ThreadStatus
from bot.slack.stream import SlackStream
from localslack import LocalSlack
from localslack.state import Change
from router.approvals import ApprovalRules, Approvers
from router.decider import Decider, DeciderSettings
from router.llm_router import LLMRouter
from router.supervisor import Supervisor
from router.training import default_classifier
from router.turn import Reply, Turn
from storage.database import Database
from storage.migrate import upgrade
from storage.outbox import Outgoing
from storage.store import Store


class QueryArgs(BaseModel):
    query: str = Field(description="What the user asked, in their words.")


class BenchProvider(CustomLLM):
    """`bench/<agent>`: call the agent's tool once, then answer from its output. Counts calls."""

    def __init__(self, meter: Meter) -> None:
        super().__init__()
        self.meter = meter

    async def acompletion(
        self, model: str, messages: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> ModelResponse:
        started = time.perf_counter()
        tools = (kwargs.get("optional_params") or {}).get("tools") or []
        spec = SPECIALISTS[model]
        last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
        done = [m for m in messages[last_user:] if m["role"] == "tool"]
        if done:
            step = OfflineStep(text=answer(model, str(done[-1]["content"])))
        else:
            query = str(messages[last_user]["content"])
            step = OfflineStep(tool_calls=[(spec.tool, {"query": query})])
        response = fill_response(kwargs["model_response"], model, messages, step)
        self.meter.record(model, *prompt_chars(messages, tools), started)
        return response


def unused_policy(request: OfflineRequest) -> OfflineStep:
    return OfflineStep(text="offline")


def specialist(route: str, model: str | None = None) -> Agent:
    spec = SPECIALISTS[route]

    async def run(args: QueryArgs, ctx: ToolContext) -> dict[str, Any]:
        return tool_output(route, args.query)

    tool = Tool(name=spec.tool, description=spec.tool_description, args=QueryArgs, run=run)
    return Agent(
        name=route,
        description=spec.description,
        instructions=spec.instructions,
        tools=(tool,),
        policy=unused_policy,
        model=model or f"bench/{route}",
    )


class Timers:
    """Wall time spent in the parts of a turn (for --breakdown), summed over the pass."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()

    def wrap(self, name: str, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started

        return timed


async def breakdown(supervisor: Supervisor, meter: Meter, job: dict[str, Any]) -> dict[str, float]:
    """Time the store, the decider, litellm and the tools over one more sequential pass."""
    timers = Timers()
    memory = supervisor.store.memory
    for name in ("thread", "window", "append"):
        setattr(memory, name, timers.wrap(f"store.{name}", getattr(memory, name)))
    decider = supervisor.decider
    decider.decide = timers.wrap("decide", decider.decide)  # type: ignore[method-assign]
    acompletion = litellm.acompletion
    litellm.acompletion = timers.wrap("litellm.acompletion", acompletion)
    for agent in supervisor.agents.values():
        for tool in agent.tools:
            object.__setattr__(tool, "run", timers.wrap("tools", tool.run))
    model_before = meter.model_s
    started = time.perf_counter()
    for i, m in enumerate(job["messages"]):
        await handle_turn(supervisor, m["text"], f"prof-{i}")
    total = time.perf_counter() - started
    litellm.acompletion = acompletion
    n = len(job["messages"])
    out = {name: s * 1000 / n for name, s in timers.seconds.items()}
    out["scripted model"] = (meter.model_s - model_before) * 1000 / n
    out["litellm.acompletion"] -= out["scripted model"]  # litellm's own share
    out["total"] = total * 1000 / n
    return out


_count = 0


async def handle_turn(supervisor: Supervisor, text: str, thread: str) -> Reply:
    global _count
    _count += 1
    n = _count
    turn = Turn(
        team_id="T1",
        channel="C1",
        thread_ts=thread,
        user_id="U1",
        text=text,
        ts=f"{1_700_000_000 + n}.{n:06d}",
        event_id=f"Ev{n}",
    )
    return await supervisor.handle(turn)


def time_litellm(meter: Meter) -> None:
    """The model layer's own time (litellm and what it calls), for the like-for-like figure."""
    original = litellm.acompletion

    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            meter.layer_s += time.perf_counter() - started

    litellm.acompletion = timed


async def model_speed(job: dict[str, Any], url: str, folder: str) -> dict[str, Any]:
    os.environ["OPENAI_API_BASE"] = url
    os.environ["OPENAI_API_KEY"] = "sk-bench-model-speed"
    model = "openai/gpt-4o-mini"
    db = Database(f"sqlite:///{Path(folder) / 'switchboard.db'}")
    await upgrade(db)
    store = Store.over(db)
    runner = Runner(LLM())
    supervisor = Supervisor(
        store,
        {route: specialist(route, model) for route in SPECIALISTS},
        runner,
        Decider(default_classifier(), DeciderSettings(), LLMRouter(runner.llm, model)),
        ApprovalRules(default=Approvers(users=("U_LEAD",))),
    )
    shown: dict[str, float] = {}
    async with LocalSlack() as slack:
        bot = slack.bot_user_id

        def seen(change: Change) -> None:
            if change.kind == "message" and change.user == bot and change.thread_ts:
                shown.setdefault(change.thread_ts, time.monotonic())

        slack.workspace.observe(seen)
        client = GuardedWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[])

        async def handle(text: str, route: str, thread: str) -> float | None:
            ts = await slack.post("bob", "support", text)
            turn = Turn(
                team_id=slack.workspace.team_id,
                channel="C0SUPPORT",
                thread_ts=ts,
                user_id="U0BOB",
                text=text,
                ts=ts,
                event_id=f"Ev{thread}",
            )
            key = f"turn:{turn.event_id}:0"
            stream = SlackStream(client, store.outbox, turn, key, ThreadStatus(client, turn))
            reply = await supervisor.handle(turn, stream)
            [(body, blocks)] = reply_messages(reply.text, "Answered by *bench*")
            message = Outgoing(
                dedupe_key=key, channel=turn.channel, text=body, blocks=blocks, thread_ts=ts
            )
            if not await stream.finish(reply, [message], []):
                await client.chat_postMessage(channel=turn.channel, thread_ts=ts, text=body)
            return shown.get(ts)

        result = await measure_speed("switchboard", handle, job)
    await store.close()
    result["versions"] = {"litellm": _version("litellm")}
    return result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("job")
    parser.add_argument("out")
    parser.add_argument("--breakdown", action="store_true")
    parser.add_argument("--model-speed", metavar="URL")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))
    job = load_job(args.job)
    if args.model_speed:
        with tempfile.TemporaryDirectory(prefix="switchboard-peer-") as folder:
            write_result(args.out, await model_speed(job, args.model_speed, folder))
        return
    meter = Meter()
    register_provider("bench", BenchProvider(meter))
    time_litellm(meter)
    agreement: Counter[str] = Counter()
    parts: list[int] = []  # specialists that answered each sequential message, in order

    with tempfile.TemporaryDirectory(prefix="switchboard-peer-") as folder:
        db = Database(f"sqlite:///{Path(folder) / 'switchboard.db'}")
        await upgrade(db)
        store = Store.over(db)
        supervisor = Supervisor(
            store,
            {route: specialist(route) for route in SPECIALISTS},
            Runner(LLM()),
            Decider(default_classifier()),
            ApprovalRules(default=Approvers(users=("U_LEAD",))),
        )

        async def handle(text: str, route: str, thread: str) -> None:
            reply = await handle_turn(supervisor, text, thread)
            if thread.startswith("seq-"):
                agreement["same route" if reply.agent == route else "other route"] += 1
                agreement[f"by {reply.decision.source}"] += 1
                parts.append(len(reply.parts))

        def extra() -> dict[str, Any]:
            return {"routing": dict(agreement), "parts": parts}

        result = await measure("switchboard", handle, meter, job, extra)
        async with db.engine.connect() as conn:
            pragma = await conn.exec_driver_sql("PRAGMA synchronous")
            result["sqlite_synchronous"] = synchronous(pragma.scalar())
        if args.breakdown:
            result["breakdown_ms"] = await breakdown(supervisor, meter, job)
        await store.close()
    result["versions"] = {"litellm": _version("litellm")}
    write_result(args.out, result)


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


if __name__ == "__main__":
    asyncio.run(main())
