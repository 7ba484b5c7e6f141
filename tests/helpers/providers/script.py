"""What a scripted model provider answers, step by step, and what it was asked.

A test scripts the answers it expects to be asked for, in order (`Step`), points litellm at
the server, and runs the product. The server records every request, answers an unscripted one
with a 500 *and* remembers it, and `assert_done()` fails when a step was never used or a call
came that nobody scripted: a fake that answers anything would hide a loop that asks too often.
The wire formats live in `openai_server` and `anthropic_server`; this module is the part they
share.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

Failure = Literal["401", "403", "404", "400", "429", "500", "529", "hang"]


@dataclass(frozen=True)
class Call:
    """A tool call the model makes. `arguments` is the raw JSON text (it may be invalid)."""

    name: str
    arguments: str
    id: str = ""

    @staticmethod
    def of(name: str, **arguments: Any) -> Call:
        return Call(name, json.dumps(arguments))


@dataclass(frozen=True)
class Step:
    """One answer: text and tool calls, or a failure; how fast; and a check of the request.

    `per_chunk` is the pause between streamed chunks; `stall_after` stops a stream after that
    many content chunks and hangs (the client must give up); `delay` comes before any byte.
    """

    text: str = ""
    calls: tuple[Call, ...] = ()
    fail: Failure | None = None
    retry_after: str = "0"
    prompt_tokens: int = 120
    completion_tokens: int = 30
    delay: float = 0.0
    per_chunk: float = 0.0
    stall_after: int | None = None
    check: Callable[[dict[str, Any]], None] | None = None


@dataclass
class Request:
    body: dict[str, Any]
    headers: dict[str, str]
    at: float

    @property
    def streamed(self) -> bool:
        return bool(self.body.get("stream"))


def words(text: str) -> list[str]:
    """Text cut the way models stream it: a word (with its leading space) at a time."""
    pieces: list[str] = []
    for index, word in enumerate(text.split(" ")):
        pieces.append(word if index == 0 else f" {word}")
    return [p for p in pieces if p]


@dataclass
class ScriptedServer:
    """The protocol-neutral half: the script, the record, the HTTP server's life."""

    path: str = ""
    steps: deque[Step] = field(default_factory=deque)
    requests: list[Request] = field(default_factory=list)
    unscripted: list[dict[str, Any]] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _asked: asyncio.Condition = field(default_factory=asyncio.Condition)

    def script(self, *steps: Step) -> None:
        self.steps.extend(steps)

    def assert_done(self) -> None:
        assert not self.unscripted, f"calls nobody scripted: {len(self.unscripted)}"
        assert not self.failed_checks, self.failed_checks
        assert not self.steps, f"{len(self.steps)} scripted step(s) never asked for"

    async def wait_requests(self, count: int, within: float = 10.0) -> None:
        async with asyncio.timeout(within), self._asked:
            await self._asked.wait_for(lambda: len(self.requests) >= count)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(Request(body, dict(request.headers), time.monotonic()))
        async with self._asked:
            self._asked.notify_all()
        if not self.steps:
            self.unscripted.append(body)
            return web.json_response({"error": {"message": "unscripted call"}}, status=500)
        step = self.steps.popleft()
        if step.check is not None:
            try:
                step.check(body)
            except AssertionError as exc:
                self.failed_checks.append(f"request {len(self.requests)}: {exc}")
        if step.delay:
            await asyncio.sleep(step.delay)
        if step.fail == "hang":
            await self._stopping.wait()
        if step.fail is not None:
            return self.failure(step)
        if body.get("stream"):
            return await self.stream(request, body, step)
        return web.json_response(self.whole(body, step))

    async def hang(self) -> None:
        """For a stream that stalls: wait until the server stops (the client gives up first)."""
        await self._stopping.wait()

    # The wire format: each protocol fills these in.
    def failure(self, step: Step) -> web.Response:
        raise NotImplementedError

    def whole(self, body: dict[str, Any], step: Step) -> dict[str, Any]:
        raise NotImplementedError

    async def stream(
        self, request: web.Request, body: dict[str, Any], step: Step
    ) -> web.StreamResponse:
        raise NotImplementedError

    async def start(self) -> ScriptedServer:
        app = web.Application()
        app.router.add_post(self.path, self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()


async def sse(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        status=200, headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    return response


@contextlib.asynccontextmanager
async def serving(server: ScriptedServer) -> AsyncIterator[ScriptedServer]:
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
