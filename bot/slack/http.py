"""The HTTP side: `/slack/events` for Slack; `/healthz`, `/readyz` and `/metrics` for operators.

A request is checked here before Bolt sees it, in the order a caller can act on, and never
answered 5xx for what it holds: Slack retries a 5xx and disables apps that fail often. A missing,
stale or wrong signature is 401, whatever the headers and body hold (nothing else is revealed);
a signed body that is not UTF-8, JSON or a form is 400; a signed request of a shape Slack does not
send (see `bot.slack.wire`) gets a quiet 200 and a log line with its event id. The signature is
checked over the raw bytes, as Slack computes it, so no decoding happens before it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import (
    build_normalized_headers,
    extract_content_type,
    parse_body,
)

from bot.metrics import Metrics
from bot.slack import wire

log = structlog.stdlib.get_logger(__name__)

Readiness = Callable[[], Awaitable[dict[str, str]]]
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
MAX_SKEW = 300  # seconds, as Slack's own verification allows


def signed(secret: bytes, headers: Any, body: bytes, now: float) -> bool:
    """Slack's v0 signature over the raw body; False for anything malformed."""
    stamp = str(headers.get("X-Slack-Request-Timestamp", ""))
    given = str(headers.get("X-Slack-Signature", ""))
    if not _TIMESTAMP.fullmatch(stamp) or abs(now - int(stamp)) > MAX_SKEW:
        return False
    digest = hmac.new(secret, b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={digest}".encode(), given.encode("utf-8", "surrogateescape"))


def _parsed(text: str, headers: dict[str, str | Sequence[str]]) -> Any:
    """The body as Bolt will parse it (its own function), or None when it cannot be parsed."""
    content_type = extract_content_type(build_normalized_headers(headers))
    try:
        return parse_body(text, content_type)
    except ValueError:
        return None


def web_app(
    app: AsyncApp | None,
    signing_secret: str,
    metrics: Metrics,
    readiness: Readiness,
) -> web.Application:
    """The HTTP server; without a Bolt app (Socket Mode) it serves only the operator pages."""
    secret = signing_secret.encode()

    async def events(request: web.Request) -> web.Response:
        assert app is not None
        raw = await request.read()
        if not signed(secret, request.headers, raw, time.time()):
            return web.json_response({"error": "invalid signature"}, status=401)
        headers: dict[str, str | Sequence[str]] = dict(request.headers)
        try:
            text = raw.decode("utf-8")  # Slack sends UTF-8, whatever a charset says
        except UnicodeDecodeError:
            return web.json_response({"error": "body is not UTF-8"}, status=400)
        body = _parsed(text, headers)
        if body is None or not isinstance(body, dict):
            return web.json_response({"error": "malformed body"}, status=400)
        problem = wire.problem(body)
        if problem is not None:
            event_id = body.get("event_id") if isinstance(body.get("event_id"), str) else None
            log.warning("http.malformed", event_id=event_id, problem=problem)
            metrics.malformed.inc()
            return web.json_response({"ok": True})
        bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=headers)
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def readyz(_: web.Request) -> web.Response:
        checks = await readiness()
        ready = all(state == "ok" for state in checks.values())
        return web.json_response({"ok": ready, **checks}, status=200 if ready else 503)

    async def metrics_page(_: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), content_type="text/plain")

    application = web.Application(client_max_size=1024 * 1024)
    if app is not None:
        application.router.add_post("/slack/events", events)
    application.router.add_get("/healthz", healthz)
    application.router.add_get("/readyz", readyz)
    application.router.add_get("/metrics", metrics_page)
    return application
