"""A model provider on this machine that speaks OpenAI's chat-completions protocol, and fails.

litellm talks to it as to OpenAI (`openai/<model>` with `OPENAI_API_BASE` pointing here), so the
LLM layer is tested through litellm and the OpenAI SDK as they run in production. Each model name
gets a behaviour: answer, 401 (OpenAI's JSON error body, echoing the key as OpenAI does), 403,
404, 400, 429 with Retry-After, an HTML 500, or hang. `refused_url()` is a port nobody listens on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

Behaviour = Literal["ok", "401", "403", "404", "400", "429", "500", "hang"]


@dataclass
class Hit:
    model: str
    at: float
    authorization: str


@dataclass
class FakeProvider:
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    default: Behaviour = "ok"
    retry_after: str = "0"
    hits: list[Hit] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None
    _hung: asyncio.Event = field(default_factory=asyncio.Event)
    _hit: asyncio.Condition = field(default_factory=asyncio.Condition)

    def count(self, model: str | None = None) -> int:
        return sum(1 for h in self.hits if model is None or h.model == model)

    async def wait_hits(self, count: int, within: float = 5.0) -> None:
        """Until the provider has been asked `count` times in all."""
        async with asyncio.timeout(within), self._hit:
            await self._hit.wait_for(lambda: len(self.hits) >= count)

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        model = str(body.get("model"))
        self.hits.append(Hit(model, time.monotonic(), request.headers.get("Authorization", "")))
        async with self._hit:
            self._hit.notify_all()
        behaviour = self.behaviours.get(model, self.default)
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if behaviour == "401":
            return _error(401, f"Incorrect API key provided: {key}.", "invalid_api_key")
        if behaviour == "403":
            return _error(403, "You are not allowed to use this model.", "forbidden")
        if behaviour == "404":
            return _error(404, f"The model `{model}` does not exist.", "model_not_found")
        if behaviour == "400":
            return _error(400, "This model's maximum context length is 8 tokens.", None)
        if behaviour == "429":
            response = _error(429, "Rate limit reached.", "rate_limit_exceeded")
            response.headers["Retry-After"] = self.retry_after
            return response
        if behaviour == "500":
            return web.Response(
                status=500,
                text="<html><body>Internal error</body></html>",
                content_type="text/html",
            )
        if behaviour == "hang":
            await self._hung.wait()  # until the server stops: the client must give up
        return web.json_response(_answer(model, f"answer from {model}"))

    async def start(self) -> FakeProvider:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/v1"
        return self

    async def stop(self) -> None:
        self._hung.set()
        if self._runner is not None:
            await self._runner.cleanup()


def _error(status: int, message: str, code: str | None) -> web.Response:
    kind = "invalid_request_error" if status != 429 else "requests"
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


def _answer(model: str, text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-local",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def refused_url() -> str:
    """An address where the connection is refused: a port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@contextlib.asynccontextmanager
async def fake_provider(
    behaviours: dict[str, Behaviour] | None = None, default: Behaviour = "ok"
) -> AsyncIterator[FakeProvider]:
    provider = await FakeProvider(dict(behaviours or {}), default).start()
    try:
        yield provider
    finally:
        await provider.stop()
