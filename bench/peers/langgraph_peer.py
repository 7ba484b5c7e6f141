"""langgraph-supervisor's side of the peer benchmark: a supervisor and four ReAct workers.

Run by bench/peers.py under bench/.venv-peers:
    python bench/peers/langgraph_peer.py JOB.json OUT.json --store sqlite|memory

`create_supervisor` over four `create_react_agent` workers, each with one tool, all on a scripted
zero-latency chat model. The supervisor hands the message to the specialist its label names
(scripted, so it always routes right); the worker calls its tool once and answers; control
returns to the supervisor, which answers last, as langgraph-supervisor's graph requires. State
is kept by LangGraph's SQLite checkpointer (`AsyncSqliteSaver`) or `InMemorySaver`, with a
thread_id per message.
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


def build(meter: Meter, routes: dict[str, str], checkpointer: Any) -> Any:
    workers: list[Any] = [
        create_react_agent(
            model=ScriptedChat(role=route, meter=meter, routes=routes),
            tools=[specialist_tool(route)],
            prompt=spec.instructions,
            name=route,
        )
        for route, spec in SPECIALISTS.items()
    ]
    graph = create_supervisor(
        workers,
        model=ScriptedChat(role=SUPERVISOR, meter=meter, routes=routes),
        prompt=ROUTER_INSTRUCTIONS,
        supervisor_name=SUPERVISOR,
    )
    return graph.compile(checkpointer=checkpointer)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("job")
    parser.add_argument("out")
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    args = parser.parse_args()
    job = load_job(args.job)
    routes = {m["text"]: m["route"] for key in ("warmup", "messages") for m in job[key]}
    meter = Meter()
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
