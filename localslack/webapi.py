"""The Web API door: ``/api/<method>``, parsed, authenticated and paced as Slack does.

Arguments may come in the query string, a form body (urlencoded or multipart) or a JSON
body, and the token as ``Authorization: Bearer`` or a ``token`` argument. JSON-valued
arguments sent as form strings (``blocks``, ``metadata``) are decoded. Then: auth
(``not_authed`` / ``invalid_auth`` / ``not_allowed_token_type``), the spec's argument check
(``invalid_arguments``), the rate limit (HTTP 429 with ``Retry-After``), and the handler.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from .errors import ApiCallError
from .models import Json
from .outage import Outage
from .ratelimit import RateLimiter
from .spec import check_arguments
from .state import Workspace

log = logging.getLogger(__name__)

TokenKind = Literal["bot", "app"]
JSON_ARGS = ("blocks", "metadata", "attachments", "files", "loading_messages", "view", "prompts")
BOT_SCOPES = (
    "app_mentions:read,channels:history,channels:read,chat:write,commands,files:write,"
    "files:read,groups:history,im:history,im:read,reactions:read,reactions:write,usergroups:read,"
    "users:read,assistant:write"
)


@dataclass(kw_only=True)
class ApiCall:
    """One Web API request, parsed: the method, its arguments and the caller's token kind."""

    method: str
    args: dict[str, Any]
    token_kind: TokenKind
    request: web.Request

    def str_arg(self, name: str, default: str = "") -> str:
        """An argument as a string ("" when absent)."""
        value = self.args.get(name)
        return default if value is None else str(value)


Handler = Callable[[ApiCall], Awaitable[Json]]


@dataclass(kw_only=True)
class Hold:
    """Calls of `method` (in `channel`, if given) are carried out, but their answer waits.

    This is the moment a crash test needs: Slack has posted the message, and the app has not
    heard back yet. `reached` is set when a call is held; `release()` lets the answers go.
    """

    method: str
    channel: str | None = None
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def matches(self, method: str, names: tuple[str, ...]) -> bool:
        return method == self.method and (self.channel is None or self.channel in names)

    def release(self) -> None:
        self.released.set()


@dataclass(frozen=True)
class Method:
    """A served method: its handler and the token type it accepts."""

    handler: Handler
    accepts: TokenKind = "bot"


class WebApi:
    """Routes ``/api/<method>`` to handlers registered with ``register``."""

    def __init__(self, workspace: Workspace, limiter: RateLimiter) -> None:
        self.ws = workspace
        self.limiter = limiter
        self.methods: dict[str, Method] = {}
        self.calls: deque[tuple[str, Json]] = deque(maxlen=10_000)
        self.holds: list[Hold] = []
        self.outage = Outage(workspace.changed.notify)

    def register(self, methods: dict[str, Method]) -> None:
        """Add handlers (each module contributes its own table)."""
        self.methods.update(methods)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The aiohttp handler for ``/api/{method}``: Slack's answer, or an outage's."""
        name = request.match_info["method"]
        return await self.outage.serve(name, request, lambda: self._answer(name, request))

    async def _answer(self, name: str, request: web.Request) -> web.Response:
        try:
            method = self.methods.get(name)
            if method is None:
                raise ApiCallError("unknown_method", extra={"req_method": name})
            args, token = await parse_request(request)
            token_kind = self._authenticate(token, method)
            check_arguments(name, args)
            self._pace(name, args)
            body = await method.handler(
                ApiCall(method=name, args=args, token_kind=token_kind, request=request)
            )
            self.calls.append((name, args))
            await self._held(name, args)
            return web.json_response({"ok": True, **body}, headers=self._headers(token_kind))
        except ApiCallError as failure:
            self.calls.append((name, {"error": failure.error}))
            return web.json_response(failure.body(), status=failure.status, headers=failure.headers)

    async def _held(self, name: str, args: dict[str, Any]) -> None:
        ref = str(args.get("channel") or "")
        channel = self.ws.find_channel(ref) if ref else None
        names = (ref, ref.lstrip("#")) + ((channel.id, channel.name) if channel else ())
        for hold in self.holds:
            if hold.matches(name, names):
                hold.reached.set()
                await hold.released.wait()

    def _authenticate(self, token: str | None, method: Method) -> TokenKind:
        if not token:
            raise ApiCallError("not_authed")
        app = self.ws.app
        kinds: dict[str, TokenKind] = {app.bot_token: "bot", app.app_token: "app"}
        kind = kinds.get(token)
        if kind is None:
            raise ApiCallError("invalid_auth")
        if kind != method.accepts:
            raise ApiCallError("not_allowed_token_type")
        return kind

    def _pace(self, method: str, args: dict[str, Any]) -> None:
        channel = args.get("channel") or args.get("channel_id")
        retry_after = self.limiter.check(method, str(channel) if channel else None)
        if retry_after is not None:
            raise ApiCallError("ratelimited", status=429, headers={"Retry-After": str(retry_after)})

    @staticmethod
    def _headers(kind: TokenKind) -> dict[str, str]:
        if kind == "bot":
            return {"X-OAuth-Scopes": BOT_SCOPES, "X-Accepted-OAuth-Scopes": ""}
        return {"X-OAuth-Scopes": "connections:write"}


async def parse_request(request: web.Request) -> tuple[dict[str, Any], str | None]:
    """Merge query, form and JSON arguments; pull out the token (header wins)."""
    args: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ApiCallError("invalid_json") from None
            if not isinstance(body, dict):
                raise ApiCallError("json_not_object")
            args.update(body)
        elif request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
    token = args.pop("token", None)
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        token = auth[len("Bearer ") :].strip()
    for name in JSON_ARGS:
        value = args.get(name)
        if isinstance(value, str) and value.strip():
            try:
                args[name] = json.loads(value)
            except ValueError:
                error = "invalid_blocks_format" if name == "blocks" else "invalid_arguments"
                raise ApiCallError(error) from None
        elif isinstance(value, str):
            args.pop(name)
    return args, (str(token) if token else None)
