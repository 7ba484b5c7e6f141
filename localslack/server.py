"""Wiring: build every part of the fake Slack once and mount it on one aiohttp application.

Routes, all on one port:
- ``/api/<method>``: the Web API (``webapi.py``, ``api_chat.py``, ``api_stream.py``,
  ``api_read.py``, ``files.py``, ``api_views.py``, ``assistant.py``)
- ``/link/``: Socket Mode WebSocket (``socket_mode.py``)
- ``/hooks/{actions|commands}/{team}/{key}``: response_url (``interactivity.py``)
- ``/upload/v1/{file}/{key}`` and ``/files/{file}/...``: upload bytes in, bytes out
- ``/``, ``/ui/*``, ``/static/*``: the web page (``page.py``, ``static/``)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from aiohttp import web

from .actions import Actions
from .api_chat import ChatMethods
from .api_read import ReadMethods
from .api_stream import StreamMethods
from .api_views import ViewMethods
from .assistant import AssistantPanel
from .config import LocalSlackConfig
from .delivery import Dispatcher
from .events import EventSource
from .files import FileMethods
from .interactivity import Interactivity
from .models import Json
from .page import Page
from .ratelimit import RateLimiter
from .socket_mode import SocketModeHub
from .state import Workspace
from .surfaces import Surfaces
from .views import Views
from .webapi import ApiCall, Method, WebApi


class Components:
    """Every part of one localslack instance, built from a config and a workspace."""

    def __init__(self, config: LocalSlackConfig, workspace: Workspace) -> None:
        self.config = config
        self.workspace = workspace
        self.dispatcher = Dispatcher(
            workspace.changed, hold_until_attached=config.delivery != "none"
        )
        self.limiter = RateLimiter(config.rate_limits, config.rate_limits_enabled)
        self.events = EventSource(workspace, config, self.dispatcher)
        self.actions = Actions(workspace, self.events)
        self.views = Views(workspace, config.trigger_ttl)
        self.interactivity = Interactivity(
            workspace, config, self.dispatcher, self.actions, self.views
        )
        self.assistant = AssistantPanel(workspace, self.events, self.actions)
        self.surfaces = Surfaces(
            workspace, config, self.dispatcher, self.events, self.interactivity, self.views
        )
        self.socket_mode = SocketModeHub(config, self.dispatcher, workspace.app.app_id)
        self.webapi = WebApi(workspace, self.limiter)
        chat = ChatMethods(workspace, self.actions)
        self.files = FileMethods(workspace, self.actions, chat)
        self.webapi.register(chat.table())
        self.streams = StreamMethods(workspace, self.actions, chat)
        self.webapi.register(self.streams.table())
        self.webapi.register(ReadMethods(workspace).table())
        self.webapi.register(self.files.table())
        self.webapi.register(ViewMethods(workspace, self.views).table())
        self.webapi.register(self.assistant.table())
        self.webapi.register({"apps.connections.open": Method(self._open_connection, "app")})
        self.page = Page(self)

    async def _open_connection(self, call: ApiCall) -> Json:
        """apps.connections.open: a fresh Socket Mode URL (app-level token only).

        An app that opens a connection while no delivery mode is set has Socket Mode on, as
        in its Slack settings, so events start flowing over the socket.
        """
        if self.dispatcher.transport is None:
            self.dispatcher.attach(self.socket_mode)
        base = self.workspace.base_url.replace("http://", "ws://", 1)
        return {"url": self.socket_mode.issue_url(base)}

    def application(self) -> web.Application:
        """The aiohttp application with every route mounted."""
        app = web.Application(client_max_size=self.config.max_request_bytes)
        app.add_routes(
            [
                web.route("*", "/api/{method}", self.webapi.handle),
                web.get("/link/", self.socket_mode.handle),
                web.get("/link", self.socket_mode.handle),
                web.post("/hooks/{kind}/{team}/{key}", self.interactivity.handle_response_url),
                web.post("/upload/v1/{file_id}/{key}", self.files.receive_bytes),
                web.get("/files/{file_id}", self.files.serve),
                web.get("/files/{file_id}/{name}", self.files.serve),
                *self.page.routes(),
            ]
        )
        static_dir = Path(str(resources.files(__package__).joinpath("static")))
        app.router.add_static("/static/", static_dir)
        return app
