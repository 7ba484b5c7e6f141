"""Socket Mode: envelopes over WebSocket connections opened with apps.connections.open.

Slack's contract, as the hub keeps it:
- ``apps.connections.open`` (app-level token) returns a ``wss://…/link/?ticket=…`` URL; here
  it is ``ws://127.0.0.1:PORT/link/?ticket=…``. On connect the server sends ``hello``.
- Each envelope (``events_api``, ``interactive``, ``slash_commands``) goes to one live
  connection, round-robin, and must be acked with ``{"envelope_id": …}`` (plus ``payload``
  for a slash command's answer or a view submission's response_action) within the ack timeout.
- An events_api envelope that is not acked in time is sent again with ``retry_attempt``
  incremented and ``retry_reason: "timeout"``, after the configured delays; an envelope whose
  connection closed before the ack is sent again on another connection at once, whatever
  its kind, so nothing is lost when a client reconnects.
- ``refresh()`` sends ``{"type": "disconnect", "reason": "refresh_requested"}``, stops
  sending on those connections, and closes them after a grace period; clients connect anew.
- At most ``max_socket_connections`` (10) live connections; one more is told
  ``too_many_websockets`` and closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .config import LocalSlackConfig
from .delivery import Delivery, DeliveryAttempt, Dispatcher
from .ids import envelope_id

_ENVELOPE_TYPES = {
    "event": "events_api",
    "interactive": "interactive",
    "slash_command": "slash_commands",
}


@dataclass(kw_only=True)
class _Connection:
    id: int
    ws: web.WebSocketResponse
    opened: float = field(default_factory=time.time)
    draining: bool = False


@dataclass(kw_only=True)
class _Envelope:
    delivery: Delivery
    retry_attempt: int = 0
    retry_reason: str = ""
    timeouts: int = 0
    state: str = "queued"
    not_before: float = 0.0
    deadline: float = 0.0
    conn: _Connection | None = None
    attempt: DeliveryAttempt | None = None


class SocketModeHub:
    """The server side of Socket Mode for the one installed app (a Transport)."""

    name = "socket"

    def __init__(self, config: LocalSlackConfig, dispatcher: Dispatcher, app_id: str) -> None:
        self.config = config
        self.dispatcher = dispatcher
        self.app_id = app_id
        self.connections: list[_Connection] = []
        self.connections_opened = 0
        self._tickets: set[str] = set()
        self._queue: list[_Envelope] = []
        self._by_envelope_id: dict[str, _Envelope] = {}
        self._ids = itertools.count(1)
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._pump_task: asyncio.Task[None] | None = None

    # ----- lifecycle and URLs ------------------------------------------------------------
    def start(self) -> None:
        """Start the envelope pump."""
        if self._pump_task is None:
            self._pump_task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        """Close every connection and stop the pump (pending envelopes stay recorded)."""
        for conn in list(self.connections):
            await conn.ws.close(code=1001, message=b"server stopping")
        tasks = [*self._tasks, *([self._pump_task] if self._pump_task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._pump_task = None

    def issue_url(self, base_ws_url: str) -> str:
        """A fresh connection URL, as apps.connections.open returns it."""
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return f"{base_ws_url}/link/?ticket={ticket}&app_id={self.app_id}"

    @property
    def live_count(self) -> int:
        """Connections that receive envelopes (not draining after a refresh)."""
        return sum(1 for c in self.connections if not c.draining)

    @property
    def pending(self) -> int:
        """Envelopes not yet acked."""
        return len(self._queue)

    def submit(self, delivery: Delivery) -> None:
        """Queue a delivery as an envelope; it goes out as soon as a connection is live."""
        self._queue.append(_Envelope(delivery=delivery))
        self._wake.set()

    def describe(self) -> str:
        """Where deliveries go."""
        return f"Socket Mode: {self.live_count} live connection(s), {self.pending} unacked"

    async def refresh(self) -> int:
        """Ask every live connection to reconnect; returns how many were asked."""
        asked = 0
        for conn in [c for c in self.connections if not c.draining]:
            conn.draining = True
            asked += 1
            with contextlib.suppress(ConnectionError, RuntimeError):
                await conn.ws.send_json(self._disconnect("refresh_requested"))
            self._spawn(self._close_later(conn))
        return asked

    # ----- the WebSocket endpoint --------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        """GET /link/?ticket=…: one Socket Mode connection, until either side closes it."""
        if request.query.get("ticket", "") not in self._tickets:
            raise web.HTTPForbidden(text="invalid_ticket: call apps.connections.open first")
        ws = web.WebSocketResponse(autoping=True, max_msg_size=self.config.max_request_bytes)
        await ws.prepare(request)
        if self.live_count >= self.config.max_socket_connections:
            await ws.send_json(self._disconnect("too_many_websockets"))
            await ws.close()
            return ws
        conn = _Connection(id=next(self._ids), ws=ws)
        await ws.send_json(self._hello())
        self.connections.append(conn)
        self.connections_opened += 1
        self._kick()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(msg.data)
        finally:
            self.connections.remove(conn)
            self._requeue_from(conn)
            self._kick()
        return ws

    def _hello(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": self.live_count + 1,
            "debug_info": {
                "host": "localslack",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    @staticmethod
    def _disconnect(reason: str) -> dict[str, Any]:
        return {"type": "disconnect", "reason": reason, "debug_info": {"host": "localslack"}}

    def _on_text(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        env = self._by_envelope_id.get(str(message.get("envelope_id")))
        if env is None or env not in self._queue:
            return
        if env.attempt is not None:
            env.attempt.status = 200
            env.attempt.error = None
            env.attempt.finished = time.time()
            self.dispatcher.record(env.delivery, env.attempt)
        self._forget(env)
        self.dispatcher.settle(env.delivery, "acked", message.get("payload"))
        self._kick()

    # ----- the pump ----------------------------------------------------------------------
    def _kick(self) -> None:
        self._wake.set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close_later(self, conn: _Connection) -> None:
        await asyncio.sleep(self.config.refresh_grace)
        await conn.ws.close(code=1000, message=b"refresh_requested")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            now = loop.time()
            self._expire(now)
            await self._send_due(now)
            timeout = self._next_wakeup(now)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    def _next_wakeup(self, now: float) -> float | None:
        times = [e.deadline for e in self._queue if e.state == "inflight"]
        times += [e.not_before for e in self._queue if e.state == "queued" and e.not_before > now]
        return max(0.0, min(times) - now) if times else None

    def _pick(self) -> _Connection | None:
        live = [c for c in self.connections if not c.draining]
        if not live:
            return None
        live.sort(key=lambda c: sum(1 for e in self._queue if e.conn is c))
        return live[0]

    async def _send_due(self, now: float) -> None:
        for env in [e for e in self._queue if e.state == "queued" and e.not_before <= now]:
            conn = self._pick()
            if conn is None:
                return
            await self._send(env, conn, now)

    async def _send(self, env: _Envelope, conn: _Connection, now: float) -> None:
        ident = envelope_id()
        self._by_envelope_id[ident] = env
        kind = _ENVELOPE_TYPES[env.delivery.kind]
        message: dict[str, Any] = {
            "envelope_id": ident,
            "payload": env.delivery.payload,
            "type": kind,
            "accepts_response_payload": kind in ("slash_commands", "interactive"),
        }
        if kind == "events_api":
            message["retry_attempt"] = env.retry_attempt
            message["retry_reason"] = env.retry_reason
        env.attempt = DeliveryAttempt(
            number=env.retry_attempt,
            transport="socket",
            started=time.time(),
            retry_reason=env.retry_reason or None,
            envelope_id=ident,
        )
        self.dispatcher.record(env.delivery, env.attempt)
        env.state, env.conn, env.deadline = "inflight", conn, now + self.config.ack_timeout
        try:
            await conn.ws.send_str(json.dumps(message))
        except (ConnectionError, RuntimeError):
            self._redeliver(env, "connection_closed")

    def _expire(self, now: float) -> None:
        for env in [e for e in self._queue if e.state == "inflight" and e.deadline <= now]:
            if env.attempt is not None:
                env.attempt.error = "timeout"
                env.attempt.finished = time.time()
                self.dispatcher.record(env.delivery, env.attempt)
            delays = self.config.retry_delays
            if env.delivery.kind == "event" and env.timeouts < len(delays):
                env.timeouts += 1
                self._redeliver(env, "timeout", delay=delays[env.timeouts - 1], now=now)
            else:
                self._forget(env)
                self.dispatcher.settle(env.delivery, "failed")

    def _requeue_from(self, conn: _Connection) -> None:
        for env in [e for e in self._queue if e.conn is conn and e.state == "inflight"]:
            if env.attempt is not None:
                env.attempt.error = "connection_closed"
                env.attempt.finished = time.time()
                self.dispatcher.record(env.delivery, env.attempt)
            self._redeliver(env, "connection_closed")

    def _redeliver(
        self, env: _Envelope, reason: str, delay: float = 0.0, now: float | None = None
    ) -> None:
        env.retry_attempt += 1
        env.retry_reason = reason
        env.state, env.conn = "queued", None
        env.not_before = (now if now is not None else asyncio.get_running_loop().time()) + delay
        self._kick()

    def _forget(self, env: _Envelope) -> None:
        if env in self._queue:
            self._queue.remove(env)
        for key in [k for k, v in self._by_envelope_id.items() if v is env]:
            del self._by_envelope_id[key]
