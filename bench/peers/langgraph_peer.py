"""langgraph-supervisor's side of the peer benchmark: a supervisor and four ReAct workers.

Run by bench/peers.py under bench/.venv-peers:
    python bench/peers/langgraph_peer.py JOB.json OUT.json --store sqlite|memory
        [--model-speed URL]

`create_supervisor` over four `create_react_agent` workers, each with one tool, all on a scripted
zero-latency chat model. The supervisor hands the message to the specialist its label names
(scripted, so it always routes right); the worker calls its tool once and answers; control
returns to the supervisor, which answers last, as langgraph-supervisor's graph requires. State
is kept by LangGraph's SQLite checkpointer (`AsyncSqliteSaver`) or `InMemorySaver`, with a
thread_id per message. The time inside the chat model's `ainvoke` (LangChain's model layer) is
recorded for the like-for-like overhead.

With --model-speed URL, every model is LangChain's ChatOpenAI at that OpenAI-compatible server,
streaming, and the graph runs with `astream(stream_mode="messages")`: the first visible text is
the first token of text any model streams in the run (the earliest a Slack integration could
show anything).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
import warnings
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

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
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    ToolMessage,
    convert_to_openai_messages,
)
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import BaseTool, StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

warnings.filterwarnings("ignore", category=DeprecationWarning)
from langgraph.prebuilt import create_react_agent  # noqa: E402  (deprecated in langgraph 1.x)
from langgraph_supervisor import create_supervisor  # noqa: E402

SUPERVISOR = "supervisor"


class ScriptedChat(BaseChatModel):
    """A chat model that plays one part with zero latency and counts what it is sent.

    `role` is "supervisor" or a specialist. The supervisor transfers to the specialist that
    `routes` names for the user's words, and answers once control comes back; a specialist calls
    its tool, then answers from the tool's output.
    """

    role: str
    meter: Meter
    routes: dict[str, str]

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | BaseTool | Any],
        *,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        schemas = [convert_to_openai_tool(t) for t in tools]
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return self.bind(tools=schemas, **kwargs)

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await super().ainvoke(input, config, **kwargs)
        finally:
            self.meter.layer_s += time.perf_counter() - started

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        raise NotImplementedError("async only")

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        started = time.perf_counter()
        last_user = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
        user = str(messages[last_user].content)
        since = messages[last_user + 1 :]
        if self.role == SUPERVISOR:
            if since:  # the specialist answered and handed back
                answered = [
                    m
                    for m in since
                    if isinstance(m, AIMessage) and m.name != SUPERVISOR and not m.tool_calls
                ]
                reply = AIMessage(content=str(answered[-1].content) if answered else "Done.")
            else:
                reply = _call(f"transfer_to_{self.routes[user]}", {})
        else:
            spec = SPECIALISTS[self.role]
            outputs = [m for m in since if isinstance(m, ToolMessage) and m.name == spec.tool]
            if outputs:
                reply = AIMessage(content=answer(self.role, str(outputs[-1].content)))
            else:
                reply = _call(spec.tool, {"query": user})
        wire = convert_to_openai_messages(messages)
        self.meter.record(self.role, *prompt_chars(wire, kwargs.get("tools") or []), started)
        return ChatResult(generations=[ChatGeneration(message=reply)])


def _call(name: str, arguments: dict[str, Any]) -> AIMessage:
    call = {"name": name, "args": arguments, "id": f"call_{uuid.uuid4().hex[:12]}"}
    return AIMessage(content="", tool_calls=[call])


def specialist_tool(route: str) -> BaseTool:
    spec = SPECIALISTS[route]

    async def run(query: str) -> str:
        return json.dumps(tool_output(route, query))

    return StructuredTool.from_function(
        coroutine=run, name=spec.tool, description=spec.tool_description
    )


def build(meter: Meter, routes: dict[str, str], checkpointer: Any, url: str = "") -> Any:
    def model(role: str) -> Any:
        if not url:
            return ScriptedChat(role=role, meter=meter, routes=routes)
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model="gpt-4o-mini", base_url=url, api_key="sk-bench", streaming=True, max_retries=0
        )

    workers: list[Any] = [
        create_react_agent(
            model=model(route),
            tools=[specialist_tool(route)],
            prompt=spec.instructions,
            name=route,
        )
        for route, spec in SPECIALISTS.items()
    ]
    graph = create_supervisor(
        workers,
        model=model(SUPERVISOR),
        prompt=ROUTER_INSTRUCTIONS,
        supervisor_name=SUPERVISOR,
    )
    return graph.compile(checkpointer=checkpointer)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("job")
    parser.add_argument("out")
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    parser.add_argument("--model-speed", metavar="URL")
    args = parser.parse_args()
    job = load_job(args.job)
    routes = {m["text"]: m["route"] for key in ("warmup", "messages") for m in job[key]}
    meter = Meter()
    if args.model_speed:
        with tempfile.TemporaryDirectory(prefix="langgraph-peer-") as folder:
            path = str(Path(folder) / "checkpoints.db")
            async with AsyncSqliteSaver.from_conn_string(path) as saver:
                app = build(meter, routes, saver, args.model_speed)

                async def shown(text: str, route: str, thread: str) -> float | None:
                    config = {"configurable": {"thread_id": thread}}
                    first = None
                    ask = {"messages": [{"role": "user", "content": text}]}
                    async for chunk, _ in app.astream(ask, config, stream_mode="messages"):
                        if first is None and getattr(chunk, "content", None):
                            first = time.monotonic()
                    return first

                result = await measure_speed("langgraph-supervisor", shown, job)
        result["versions"] = {p: version(p) for p in ("langgraph-supervisor", "langchain-openai")}
        write_result(args.out, result)
        return
    answers: dict[str, int] = {"right": 0, "wrong": 0}

    async def run(checkpointer: Any) -> dict[str, Any]:
        app = build(meter, routes, checkpointer)

        async def handle(text: str, route: str, thread: str) -> None:
            config = {"configurable": {"thread_id": thread}}
            state = await app.ainvoke({"messages": [{"role": "user", "content": text}]}, config)
            final = str(state["messages"][-1].content)
            answers["right" if f"for {route}," in final else "wrong"] += 1

        return await measure(f"langgraph-supervisor ({args.store})", handle, meter, job)

    if args.store == "sqlite":
        with tempfile.TemporaryDirectory(prefix="langgraph-peer-") as folder:
            path = str(Path(folder) / "checkpoints.db")
            async with AsyncSqliteSaver.from_conn_string(path) as saver:
                result = await run(saver)
                async with saver.conn.execute("PRAGMA synchronous") as cursor:
                    row = await cursor.fetchone()
                result["sqlite_synchronous"] = synchronous(row[0] if row else None)
    else:
        result = await run(InMemorySaver())
    result["answers"] = answers
    packages = (
        "langgraph",
        "langgraph-supervisor",
        "langgraph-checkpoint-sqlite",
        "langchain-core",
    )
    result["versions"] = {p: version(p) for p in packages}
    write_result(args.out, result)


if __name__ == "__main__":
    asyncio.run(main())
