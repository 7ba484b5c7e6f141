"""``LocalSlack``: start the fake workspace in-process and script it from tests and benchmarks.

A test starts it on a free port, points the Bolt app (HTTP or Socket Mode) and an
``AsyncWebClient(base_url=ls.api_url)`` at it, then acts as people do: post, click, run a
slash command, edit, delete; and waits, event-driven, for what the bot does. Every wait takes
a timeout and fails with a message that says what it waited for.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

from .config import LocalSlackConfig
from .delivery import Delivery
from .demo import demo_workspace
from .errors import LocalSlackError, UrlVerificationError
from .http_delivery import HttpTransport
from .ids import ts_key
from .models import Json, Message
from .outage import Mode as OutageMode
from .ratelimit import RateLimitHit
from .scripting_surfaces import SurfaceVerbs
from .server import Components
from .state import Workspace
from .webapi import Hold


class LocalSlack(SurfaceVerbs):
    """One running fake Slack: server, workspace, deliveries, and the scripting verbs (those of
    Home tabs, modals, shortcuts and the assistant panel are in ``scripting_surfaces.py``)."""

    def __init__(
        self, config: LocalSlackConfig | None = None, workspace: Workspace | None = None
    ) -> None:
        self.config = config or LocalSlackConfig()
        self.workspace = workspace or demo_workspace()
        self.parts = Components(self.config, self.workspace)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._port = 0

    # ----- lifecycle ---------------------------------------------------------------------
    async def start(self) -> LocalSlack:
        """Listen (port 0 picks a free one) and apply the configured delivery mode."""
        runner = web.AppRunner(self.parts.application(), handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        self.workspace.base_url = f"http://{self.config.url_host()}:{self._port}"
        self._session = aiohttp.ClientSession()
        self.parts.socket_mode.start()
        if self.config.delivery == "socket":
            self.use_socket_mode()
        elif self.config.delivery == "http" and self.config.request_url:
            await self.use_http(self.config.request_url, verify=False)
        return self

    async def stop(self) -> None:
        """Close connections, cancel retries, stop listening."""
        transport = self.parts.dispatcher.transport
        if transport is not None and transport is not self.parts.socket_mode:
            await transport.close()
        await self.parts.socket_mode.close()
        await self.parts.page.close()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> LocalSlack:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ----- where things are --------------------------------------------------------------
    @property
    def port(self) -> int:
        """The port we listen on (after start)."""
        return self._port

    @property
    def url(self) -> str:
        """The web page, e.g. http://127.0.0.1:3000."""
        return self.workspace.base_url

    @property
    def api_url(self) -> str:
        """The Web API base for ``AsyncWebClient(base_url=...)`` (ends with /api/)."""
        return f"{self.workspace.base_url}/api/"

    @property
    def bot_token(self) -> str:
        """The bot token (xoxb-) the app uses for the Web API."""
        return self.workspace.app.bot_token

    @property
    def app_token(self) -> str:
        """The app-level token (xapp-) for apps.connections.open."""
        return self.workspace.app.app_token

    @property
    def signing_secret(self) -> str:
        """The secret our HTTP deliveries are signed with."""
        return self.workspace.app.signing_secret

    @property
    def bot_user_id(self) -> str:
        """The bot's user id (what ``<@...>`` mentions)."""
        return self.workspace.app.bot_user_id

    # ----- delivery mode -----------------------------------------------------------------
    async def use_http(
        self, request_url: str, *, signing_secret: str | None = None, verify: bool = True
    ) -> None:
        """Send events, commands and clicks as signed POSTs to ``request_url``.

        With ``verify`` the URL must first answer Slack's url_verification challenge, as when
        a request URL is saved in the app settings; a wrong answer raises
        UrlVerificationError.
        """
        if self._session is None:
            raise LocalSlackError("Call start() before use_http().")
        secret = signing_secret or self.workspace.app.signing_secret
        self.workspace.app.signing_secret = secret
        old = self.parts.dispatcher.transport
        if old is not None and old is not self.parts.socket_mode:
            await old.close()
        self.parts.dispatcher.attach(
            HttpTransport(self.config, self.parts.dispatcher, self._session, request_url, secret)
        )
        if verify:
            await self._verify_url(request_url)

    async def _verify_url(self, request_url: str) -> None:
        challenge = uuid.uuid4().hex
        delivery = await self.parts.events.url_verification(challenge).wait(
            self.config.ack_timeout + 1
        )
        answer = delivery.response or {}
        if delivery.state != "acked" or answer.get("challenge") != challenge:
            raise UrlVerificationError(
                f"{request_url} did not answer the url_verification challenge "
                f"(state {delivery.state}, answer {answer!r}). Is the app running and is its "
                "signing secret the one localslack signs with?"
            )

    def use_socket_mode(self) -> None:
        """Queue envelopes for Socket Mode clients (connect with the app token)."""
        self.parts.dispatcher.attach(self.parts.socket_mode)

    def use_no_delivery(self) -> None:
        """Record events without sending them (state "dropped")."""
        self.parts.dispatcher.attach(None)

    # ----- acting as people --------------------------------------------------------------
    async def post(
        self,
        user: str,
        channel: str,
        text: str,
        thread_ts: str | None = None,
        *,
        broadcast: bool = False,
    ) -> str:
        """Post as a person ("alice" or "U0ALICE") in a channel ("support", "#support", id);
        returns the new message's ts. The app gets the events Slack would send. ``broadcast``
        is a reply's "Also send to #channel" (``thread_broadcast``)."""
        return self.parts.actions.user_post(user, channel, text, thread_ts, broadcast=broadcast).ts

    async def upload(
        self,
        user: str,
        channel: str,
        name: str,
        data: bytes,
        text: str = "",
        thread_ts: str | None = None,
    ) -> str:
        """A person shares a file, with optional text (``file_share``); returns the ts."""
        return self.parts.actions.user_upload(user, channel, name, data, text, thread_ts).ts

    @property
    def file_downloads(self) -> list[tuple[str, str]]:
        """Every download of a file's bytes: (file id, Authorization header sent)."""
        return list(self.parts.files.downloads)

    async def dm(self, user: str, text: str) -> str:
        """A person writes to the bot in their DM; returns the ts."""
        channel = self.workspace.dm_with(self.workspace.user(user).id)
        return self.parts.actions.user_post(user, channel.id, text).ts

    async def click(
        self,
        user: str,
        channel: str,
        message_ts: str,
        action_id: str,
        *,
        value: str | None = None,
        wait: float | None = 5.0,
    ) -> Delivery:
        """Click a button; the value comes from the message's blocks unless given.

        Returns the block_actions delivery, settled (acked or failed) unless ``wait=None``.
        """
        delivery = self.parts.interactivity.click(user, channel, message_ts, action_id, value)
        return await delivery.wait(wait) if wait is not None else delivery

    async def slash(
        self,
        user: str,
        channel: str,
        text: str,
        *,
        command: str | None = None,
        wait: float | None = 5.0,
    ) -> Delivery:
        """Run ``/switchboard text`` (or ``command``) as a person in a channel."""
        delivery = self.parts.interactivity.slash(user, channel, text, command)
        return await delivery.wait(wait) if wait is not None else delivery

    async def edit(self, user: str, channel: str, ts: str, text: str) -> None:
        """A person edits their message (the app gets message_changed)."""
        self.parts.actions.user_edit(user, channel, ts, text)

    async def delete(self, user: str, channel: str, ts: str) -> None:
        """A person deletes their message (the app gets message_deleted)."""
        self.parts.actions.user_delete(user, channel, ts)

    async def react(self, user: str, channel: str, ts: str, name: str, add: bool = True) -> None:
        """A person adds (or removes) a reaction."""
        self.parts.actions.react(user, channel, ts, name, add)

    def hold(self, method: str, channel: str | None = None) -> Hold:
        """Carry out `method` calls (in `channel`) but hold their answers until released."""
        held = Hold(method=method, channel=channel)
        self.parts.webapi.holds.append(held)
        return held

    # ----- reading -----------------------------------------------------------------------
    def thread(self, channel: str, thread_ts: str) -> list[Json]:
        """The thread's messages (parent first), in Slack's JSON shape."""
        ws = self.workspace
        return [ws.to_json(m) for m in ws.thread(ws.channel(channel).id, thread_ts)]

    def history(self, channel: str) -> list[Json]:
        """A channel's top-level messages, oldest first."""
        ws = self.workspace
        return [ws.to_json(m) for m in ws.history(ws.channel(channel).id)]

    def ephemerals(self, user: str, channel: str) -> list[Json]:
        """The ephemeral messages a person sees in a channel."""
        ws = self.workspace
        return [
            {"ts": e.ts, "text": e.text, "blocks": e.blocks, "thread_ts": e.thread_ts}
            for e in ws.visible_ephemerals(ws.user(user).id, ws.channel(channel).id)
        ]

    def status(self, channel: str, thread_ts: str) -> str:
        """The bot's current assistant status in a thread ("" when none)."""
        return self.workspace.statuses.get((self.workspace.channel(channel).id, thread_ts), "")

    # ----- waiting -----------------------------------------------------------------------
    async def wait_for_bot_message(
        self,
        channel: str,
        thread_ts: str | None = None,
        *,
        after_ts: str | None = None,
        within: float = 5.0,
        predicate: Callable[[Json], bool] | None = None,
    ) -> Json:
        """The bot's first message in a channel (or one thread) after ``after_ts``.

        ``after_ts`` defaults to the latest message from a person in that scope at call
        time, so "post, then wait for the reply" never misses a fast bot.
        """
        ws = self.workspace
        channel_id = ws.channel(channel).id
        bot = ws.app.bot_user_id

        def scope() -> list[Message]:
            if thread_ts is not None:
                return ws.thread(channel_id, thread_ts)
            return [m for m in ws.messages[channel_id].values() if not m.deleted]

        if after_ts is None:
            people = [m.ts for m in scope() if m.user != bot]
            after_ts = people[-1] if people else "0"
        floor = ts_key(after_ts)

        def found() -> Json | None:
            for m in scope():
                if m.user == bot and ts_key(m.ts) > floor:
                    body = ws.to_json(m)
                    if predicate is None or predicate(body):
                        return body
            return None

        where = f"#{ws.channels[channel_id].name}" + (f" thread {thread_ts}" if thread_ts else "")
        return await ws.changed.wait_for(found, within, f"a bot message in {where}")

    async def wait_for(
        self, predicate: Callable[[], Any], within: float = 5.0, what: str = "a condition"
    ) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked on every workspace change or
        delivery attempt); returns its value."""
        return await self.workspace.changed.wait_for(predicate, within, what)

    async def wait_for_deliveries(
        self, predicate: Callable[[Delivery], bool], count: int = 1, within: float = 5.0
    ) -> list[Delivery]:
        """Wait until at least ``count`` deliveries match ``predicate``; returns them."""

        def matching() -> list[Delivery] | None:
            found = [d for d in self.deliveries if predicate(d)]
            return found if len(found) >= count else None

        found: list[Delivery] = await self.wait_for(
            matching, within, f"{count} matching deliveries"
        )
        return found

    # ----- Slack's bad days -----------------------------------------------------------------
    def break_web_api(self, mode: OutageMode, methods: Iterable[str] | None = None) -> None:
        """Fail Web API calls (all, or these methods) as ``mode`` says until mended: an HTML
        500, a text 503, an empty 502, a reset connection, or ``hold`` (do the work, never
        answer)."""
        self.parts.webapi.outage.start(mode, methods)

    def mend_web_api(self) -> None:
        """End the outage; held answers are sent."""
        self.parts.webapi.outage.end()

    @property
    def outage_hits(self) -> int:
        """Web API calls spoiled by outages so far."""
        return self.parts.webapi.outage.hits

    # ----- Socket Mode and introspection ---------------------------------------------------
    async def refresh_socket_mode(self) -> int:
        """Tell every Socket Mode client to reconnect (``refresh_requested``); returns how
        many connections were asked. Unacked envelopes are redelivered, none lost."""
        return await self.parts.socket_mode.refresh()

    @property
    def socket_connections(self) -> int:
        """Live Socket Mode connections (not draining)."""
        return self.parts.socket_mode.live_count

    @property
    def deliveries(self) -> list[Delivery]:
        """Everything sent to the app, oldest first, with its attempts."""
        return self.parts.dispatcher.deliveries

    @property
    def rate_limit_hits(self) -> list[RateLimitHit]:
        """Every Web API call refused with 429."""
        return self.parts.limiter.hits

    @property
    def api_calls(self) -> list[tuple[str, Json]]:
        """Every Web API call (method, arguments; or the error on failure)."""
        return list(self.parts.webapi.calls)


async def serve(
    host: str = "127.0.0.1", port: int = 3000, config: LocalSlackConfig | None = None
) -> LocalSlack:
    """Start localslack on ``host:port`` (for ``switchboard local``); stop it with ``stop()``."""
    ls = LocalSlack(replace(config or LocalSlackConfig(), host=host, port=port))
    return await ls.start()
