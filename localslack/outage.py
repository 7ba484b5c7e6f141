"""Slack having a bad day, on demand: the ways the Web API really fails, for tests and benches.

Slack's edge sometimes answers a Web API call with an HTML error page, a plain-text one, an
empty body, or drops the connection; and a post can be taken while the answer never comes.
`Outage` puts the Web API (every method, or some) into one of these modes until it is mended,
so an app's retries and its "never post twice" can be tried against the wire as it fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Literal

from aiohttp import web

Mode = Literal["html_500", "text_503", "empty_502", "reset", "hold"]
MODES: tuple[Mode, ...] = ("html_500", "text_503", "empty_502", "reset", "hold")

_HTML = "<html><head><title>500 Server Error</title></head><body>Server Error</body></html>"


class Outage:
    """The Web API's current failure, if any; `hits` counts the calls it spoiled."""

    def __init__(self, changed: Callable[[], None] = lambda: None) -> None:
        self.changed = changed  # waiters on the workspace re-check on every spoiled call
        self.mode: Mode | None = None
        self.methods: frozenset[str] | None = None
        self.hits = 0
        self._mended = asyncio.Event()

    def start(self, mode: Mode, methods: Iterable[str] | None = None) -> None:
        self.mode = mode
        self.methods = frozenset(methods) if methods is not None else None
        self._mended = asyncio.Event()

    def end(self) -> None:
        self.mode = None
        self._mended.set()

    def _applies(self, method: str) -> bool:
        return self.mode is not None and (self.methods is None or method in self.methods)

    async def serve(
        self,
        method: str,
        request: web.Request,
        handle: Callable[[], Awaitable[web.Response]],
    ) -> web.StreamResponse:
        """Answer as the outage would, or let the call through."""
        if not self._applies(method):
            return await handle()
        self.hits += 1
        self.changed()
        if self.mode == "hold":  # Slack does the work and keeps the answer
            response = await handle()
            await self._mended.wait()
            return response
        if self.mode == "reset":
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)  # never reaches the client: the socket is gone
        if self.mode == "text_503":
            return web.Response(status=503, text="upstream error", content_type="text/plain")
        if self.mode == "empty_502":
            return web.Response(status=502, body=b"", content_type="application/json")
        return web.Response(status=500, text=_HTML, content_type="text/html")
