"""One OpenAI-compatible model server at model speed, shared by every peer of the benchmark.

`bench/peers.py --model-speed` runs it in its own process (a thread with an event loop) and
points every framework at it through its normal client library: litellm's `openai/` route,
LangChain's ChatOpenAI, the Agents SDK's AsyncOpenAI. Each call waits `delay` seconds before
its first byte, then produces its answer at `tps` tokens a second, streamed or not (a word or
eight characters of a tool call's arguments count as a token). It plays the same parts as the
scripted models of the zero-latency mode: a router hands over to the labelled specialist, a
specialist calls its tool once and answers from its output in three sentences, and
langgraph-supervisor's supervisor repeats the specialist's answer. Switchboard's LLM route
classifier, asked only when the fast classifier is unsure, gets the labelled route. Every call
is recorded (when it came, when its first text went out, its prompt tokens as characters / 4).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from _common import SPECIALISTS, TOOL_ROUTE, answer
from aiohttp import web

MORE = " The details are in the summary above. Reply in this thread if anything is unclear."


@dataclass
class Call:
    at: float
    prompt_tokens: int
    streamed: bool
    first_text_at: float | None = None
    done_at: float = 0.0


@dataclass
class ModelServer:
    routes: dict[str, str]
    delay: float = 0.4
    tps: float = 50.0
    calls: list[Call] = field(default_factory=list)
    url: str = ""
    _loop: asyncio.AbstractEventLoop | None = None

    # ----- what the model says -----------------------------------------------------------
    def decide(self, body: dict[str, Any]) -> tuple[str, tuple[str, dict[str, Any]] | None]:
        messages = body["messages"]
        tools = [t["function"]["name"] for t in body.get("tools") or []]
        last_user = max(i for i, m in enumerate(messages) if m.get("role") == "user")
        user = _text(messages[last_user].get("content"))
        since = messages[last_user + 1 :]
        route = self.routes.get(user, "triage")
        if body.get("response_format"):  # Switchboard's LLM route classifier
            return json.dumps(
                {"routes": [{"route": route, "confidence": 0.9}], "reason": "x"}
            ), None
        if any(t.startswith("transfer_to_") for t in tools):  # a router or supervisor
            answered = [
                _text(m.get("content"))
                for m in since
                if m.get("role") == "assistant" and _text(m.get("content"))
            ]
            if answered:
                return answered[-1], None
            return "", (f"transfer_to_{route}", {})
        mine = next((t for t in tools if t in TOOL_ROUTE), SPECIALISTS[route].tool)
        asked = {
            c.get("id")
            for m in since
            for c in m.get("tool_calls") or []
            if c.get("function", {}).get("name") == mine
        }
        results = [m for m in since if m.get("role") == "tool" and m.get("tool_call_id") in asked]
        if results:
            return answer(TOOL_ROUTE[mine], _text(results[-1].get("content"))) + MORE, None
        return "", (mine, {"query": user})

    # ----- the wire --------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        prompt = (len(json.dumps(body["messages"])) + len(json.dumps(body.get("tools") or []))) // 4
        call = Call(time.monotonic(), prompt, bool(body.get("stream")))
        self.calls.append(call)
        text, tool = self.decide(body)
        pieces = _words(text)
        arguments = json.dumps(tool[1]) if tool else ""
        tokens = len(pieces) + len(arguments) // 8 + (2 if tool else 0)
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": tokens,
            "total_tokens": prompt + tokens,
        }
        await asyncio.sleep(self.delay)
        if not call.streamed:
            await asyncio.sleep(tokens / self.tps)
            message: dict[str, Any] = {"role": "assistant", "content": text or None}
            if tool:
                message["tool_calls"] = [_tool_call(tool[0], arguments)]
            call.done_at = call.first_text_at = time.monotonic()
            return web.json_response(
                {
                    "id": "chatcmpl-bench",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": message,
                            "finish_reason": "tool_calls" if tool else "stop",
                        }
                    ],
                    "usage": usage,
                }
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)

        async def send(
            delta: dict[str, Any] | None, finish: str | None = None, **extra: Any
        ) -> None:
            choices = (
                [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
            )
            chunk = {
                "id": "chatcmpl-bench",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body["model"],
                "choices": choices,
                **extra,
            }
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        await send({"role": "assistant", "content": ""})
        for index, piece in enumerate(pieces):
            if index:
                await asyncio.sleep(1 / self.tps)
            await send({"content": piece})
            if call.first_text_at is None:
                call.first_text_at = time.monotonic()
        if tool:
            await asyncio.sleep(tokens / self.tps)
            head = _tool_call(tool[0], arguments) | {"index": 0}
            await send({"tool_calls": [head]})
        await send({}, "tool_calls" if tool else "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            await send(None, usage=usage)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        call.done_at = time.monotonic()
        return response

    # ----- its life, in a thread of the orchestrator ---------------------------------------
    def start(self) -> ModelServer:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_post("/v1/chat/completions", self.handle)
            runner = web.AppRunner(app)
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
            self.url = f"http://127.0.0.1:{runner.addresses[0][1]}/v1"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())

        threading.Thread(target=run, daemon=True).start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def _words(text: str) -> list[str]:
    return [w if i == 0 else f" {w}" for i, w in enumerate(text.split(" ")) if w]


def _tool_call(name: str, arguments: str) -> dict[str, Any]:
    return {
        "id": f"call_{time.monotonic_ns()}",
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }
