"""The web page's back end: a small JSON API under ``/ui/`` and a live change feed.

The page (static HTML, CSS and JS in ``static/``) acts as a chosen demo user. Everything it
does goes through the same ``Actions`` and ``Interactivity`` as the scripting API, so the bot
cannot tell a click in the browser from one in a test. Changes reach the page over a
WebSocket (``/ui/live``) as small "this channel/thread changed" notes; the page then fetches
what it shows, which keeps ephemeral messages private to their user.
"""

from __future__ import annotations

import asyncio
import contextlib
from importlib import resources
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .actions import ActionError
from .errors import LocalSlackError
from .ids import ts_key
from .models import Json, ephemeral_json
from .state import Change

if TYPE_CHECKING:
    from .server import Components


class Page:
    """Routes for the page and its live feed."""

    def __init__(self, parts: Components) -> None:
        self.parts = parts
        self.ws = parts.workspace
        self.actions = parts.actions
        self.interactivity = parts.interactivity
        self.dispatcher = parts.dispatcher
        self.slash_command = parts.config.slash_command
        self._feeds: set[asyncio.Queue[Change | None]] = set()
        self._sockets: set[web.WebSocketResponse] = set()
        self.ws.observe(self._broadcast)

    def routes(self) -> list[web.RouteDef]:
        """The page's routes (static files are added by the server)."""
        return [
            web.get("/", self.index),
            web.get("/archives/{channel}/{p}", self.index),
            web.get("/ui/bootstrap", self.bootstrap),
            web.get("/ui/messages", self.messages),
            web.get("/ui/thread", self.thread),
            web.get("/ui/deliveries", self.deliveries),
            web.get("/ui/home", self.home),
            web.get("/ui/modal", self.modal),
            web.get("/ui/assistant", self.assistant),
            web.get("/ui/live", self.live),
            web.post("/ui/{action}", self.act),
        ]

    async def close(self) -> None:
        """Close open page sockets (server shutdown)."""
        for queue in list(self._feeds):
            queue.put_nowait(None)
        for sock in list(self._sockets):
            await sock.close()

    async def index(self, request: web.Request) -> web.Response:
        """The single page."""
        html = resources.files(__package__).joinpath("static/index.html").read_text()
        return web.Response(text=html, content_type="text/html")

    async def bootstrap(self, request: web.Request) -> web.Response:
        """Who and what is in the workspace."""
        ws, config = self.ws, self.parts.config
        app = {
            "home_tab": config.home_tab,
            "assistant": config.assistant,
            "message_shortcuts": [
                {"callback_id": s.callback_id, "name": s.name, "description": s.description}
                for s in config.message_shortcuts
            ],
        }
        return web.json_response(
            {
                "team": {"id": ws.team_id, "name": ws.team_name},
                "bot": {"user_id": ws.app.bot_user_id, "bot_id": ws.app.bot_id},
                "app": app,
                "slash_command": self.slash_command,
                "users": [
                    {
                        k: getattr(u, k)
                        for k in ("id", "name", "real_name", "title", "is_bot", "color")
                    }
                    for u in ws.users.values()
                ],
                "channels": [
                    {
                        "id": c.id,
                        "name": c.name,
                        "kind": c.kind,
                        "members": sorted(c.members),
                        "im_user": c.im_user,
                        "purpose": c.purpose,
                    }
                    for c in ws.channels.values()
                ],
                "usergroups": [
                    {"id": g.id, "handle": g.handle, "name": g.name, "users": g.users}
                    for g in ws.usergroups.values()
                ],
            }
        )

    def _statuses(self, channel_id: str) -> dict[str, str]:
        return {ts: s for (c, ts), s in self.ws.statuses.items() if c == channel_id}

    async def messages(self, request: web.Request) -> web.Response:
        """A channel's top-level messages plus the viewer's ephemerals, oldest first."""
        channel = self.ws.channel(request.query["channel"])
        viewer = request.query.get("as", "")
        items: list[Json] = [self.ws.to_json(m) for m in self.ws.history(channel.id)]
        items += [
            ephemeral_json(e)
            for e in self.ws.visible_ephemerals(viewer, channel.id)
            if e.thread_ts is None
        ]
        items.sort(key=lambda m: ts_key(m["ts"]))
        return web.json_response({"messages": items, "statuses": self._statuses(channel.id)})

    async def thread(self, request: web.Request) -> web.Response:
        """A thread (parent first) plus the viewer's ephemerals in it."""
        channel = self.ws.channel(request.query["channel"])
        ts, viewer = request.query["ts"], request.query.get("as", "")
        items = [self.ws.to_json(m) for m in self.ws.thread(channel.id, ts)]
        items += [
            ephemeral_json(e)
            for e in self.ws.visible_ephemerals(viewer, channel.id)
            if e.thread_ts == ts
        ]
        items.sort(key=lambda m: ts_key(m["ts"]))
        status = self.ws.statuses.get((channel.id, ts), "")
        return web.json_response({"messages": items, "status": status})

    async def deliveries(self, request: web.Request) -> web.Response:
        """The last deliveries to the app, for the page's delivery log."""
        rows = [
            {
                "id": d.id,
                "kind": d.kind,
                "type": d.event_type or d.payload.get("command") or d.payload.get("type"),
                "state": d.state,
                "attempts": [
                    {"n": a.number, "status": a.status, "error": a.error, "via": a.transport}
                    for a in d.attempts
                ],
            }
            for d in self.dispatcher.deliveries[-50:]
        ]
        return web.json_response(
            {"transport": self.dispatcher.describe(), "deliveries": rows[::-1]}
        )

    async def home(self, request: web.Request) -> web.Response:
        """The viewer's Home tab as last published (null before the first publish)."""
        view = self.parts.views.home_of(request.query.get("as", ""))
        return web.json_response({"view": self.parts.views.to_json(view) if view else None})

    async def modal(self, request: web.Request) -> web.Response:
        """The modal the viewer sees now, with any errors shown under its inputs."""
        view = self.parts.views.top_modal(request.query.get("as", ""))
        if view is None:
            return web.json_response({"view": None, "errors": {}})
        return web.json_response({"view": self.parts.views.to_json(view), "errors": view.errors})

    async def assistant(self, request: web.Request) -> web.Response:
        """An assistant thread: its title, suggested prompts, messages and status."""
        panel = self.parts.assistant
        try:
            thread = panel.find(request.query["channel"], request.query["ts"])
        except (ActionError, KeyError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=404)
        messages = [self.ws.to_json(m) for m in self.ws.thread(thread.channel, thread.thread_ts)]
        status = self.ws.statuses.get((thread.channel, thread.thread_ts), "")
        return web.json_response(
            {**panel.to_json(thread), "messages": messages[1:], "status": status}
        )

    async def act(self, request: web.Request) -> web.Response:
        """POST /ui/{action} as the chosen user: post, command, click, shortcut, submit, …"""
        body: dict[str, Any] = await request.json()
        action = request.match_info["action"]
        try:
            if action == "view_submit":
                result = await self._submit(body)
            else:
                result = self._do(action, body) if "channel" in body else self._do_app(action, body)
        except (ActionError, LocalSlackError, KeyError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        return web.json_response({"ok": True, **result})

    async def _submit(self, b: dict[str, Any]) -> Json:
        shown = await self.parts.surfaces.submit(b["as"], b["view_id"], b.get("values") or {})
        return {"open": shown is not None}

    def _do_app(self, action: str, b: dict[str, Any]) -> Json:
        """Deeds on the app's surfaces that happen outside a channel."""
        user, surfaces = b["as"], self.parts.surfaces
        if action == "home_opened":
            surfaces.open_home(user, b.get("tab", "home"))
            return {}
        if action == "view_click":
            delivery = surfaces.click(user, b["view_id"], b["action_id"], b.get("block_id"))
            return {"delivery": delivery.id}
        if action == "view_close":
            surfaces.close(user, b["view_id"])
            return {}
        raise ActionError(f"unknown action {action!r}")

    def _do(self, action: str, b: dict[str, Any]) -> Json:
        user, channel = b["as"], b["channel"]
        if action == "post":
            msg = self.actions.user_post(user, channel, b["text"], b.get("thread_ts") or None)
            return {"ts": msg.ts}
        if action == "command":
            delivery = self.interactivity.slash(user, channel, b.get("text", ""), b.get("command"))
            return {"delivery": delivery.id}
        if action == "click":
            delivery = self.interactivity.click(user, channel, b["ts"], b["action_id"])
            return {"delivery": delivery.id}
        if action == "edit":
            self.actions.user_edit(user, channel, b["ts"], b["text"])
            return {}
        if action == "delete":
            self.actions.user_delete(user, channel, b["ts"])
            return {}
        if action == "react":
            self.actions.react(user, channel, b["ts"], b["name"], bool(b.get("add", True)))
            return {}
        return self._do_panel(action, b)

    def _do_panel(self, action: str, b: dict[str, Any]) -> Json:
        """Message shortcuts and the assistant panel (they name a channel too)."""
        user, channel, panel = b["as"], b["channel"], self.parts.assistant
        if action == "shortcut":
            delivery = self.parts.surfaces.shortcut(user, channel, b["ts"], b["callback_id"])
            return {"delivery": delivery.id}
        if action == "assistant_open":
            return panel.to_json(panel.open(user, channel))
        if action == "assistant_context":
            panel.look_at(panel.find(b["thread_channel"], b["thread_ts"]), channel)
            return {}
        if action == "assistant_prompt":
            thread = panel.find(channel, b["ts"])
            return {"ts": panel.pick(thread, int(b["index"]))}
        raise ActionError(f"unknown action {action!r}")

    # ----- live feed ---------------------------------------------------------------------
    def _broadcast(self, change: Change) -> None:
        for queue in list(self._feeds):
            queue.put_nowait(change)

    async def live(self, request: web.Request) -> web.StreamResponse:
        """GET /ui/live: a WebSocket of change notes until the page goes away."""
        sock = web.WebSocketResponse(heartbeat=30)
        await sock.prepare(request)
        queue: asyncio.Queue[Change | None] = asyncio.Queue()
        self._feeds.add(queue)
        self._sockets.add(sock)
        reader = asyncio.get_running_loop().create_task(self._drain(sock, queue))
        try:
            while (change := await queue.get()) is not None:
                note = {
                    "type": change.kind,
                    "channel": change.channel,
                    "ts": change.ts,
                    "thread_ts": change.thread_ts,
                    "user": change.user,
                    **change.data,
                }
                await sock.send_json(note)
        except ConnectionError:
            pass
        finally:
            self._feeds.discard(queue)
            self._sockets.discard(sock)
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        return sock

    @staticmethod
    async def _drain(sock: web.WebSocketResponse, queue: asyncio.Queue[Change | None]) -> None:
        async for _ in sock:
            pass
        queue.put_nowait(None)
