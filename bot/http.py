"""The HTTP side: `/slack/events` for Slack, `/healthz` for the platform, `/metrics` for Prometheus.

Before Bolt sees a request, it is checked here in the order a caller can act on: a bad or stale
signature is 401 (nothing else is revealed), a body that is not what Slack sends is 400.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.metrics import Metrics

HealthCheck = Callable[[], Awaitable[None]]


def _well_formed(body: str, content_type: str) -> bool:
    try:
        if content_type.startswith("application/json"):
            return isinstance(json.loads(body), dict)
        form = parse_qs(body, strict_parsing=True)
        if "payload" in form:
            return isinstance(json.loads(form["payload"][0]), dict)
        return "command" in form or "ssl_check" in form
    except ValueError:
        return False


def web_app(
    app: AsyncApp, signing_secret: str, metrics: Metrics, health: HealthCheck
) -> web.Application:
    verifier = SignatureVerifier(signing_secret)

    async def events(request: web.Request) -> web.Response:
        body = await request.text()
        if not verifier.is_valid_request(body, dict(request.headers)):
            return web.json_response({"error": "invalid signature"}, status=401)
        if not _well_formed(body, request.headers.get("Content-Type", "")):
            return web.json_response({"error": "malformed body"}, status=400)
        bolt_request = AsyncBoltRequest(
            body=body, query=request.query_string, headers=dict(request.headers)
        )
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    async def healthz(_: web.Request) -> web.Response:
        try:
            await health()
        except Exception as exc:
            return web.json_response({"ok": False, "error": type(exc).__name__}, status=503)
        return web.json_response({"ok": True})

    async def metrics_page(_: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), content_type="text/plain")

    application = web.Application(client_max_size=1024 * 1024)
    application.router.add_post("/slack/events", events)
    application.router.add_get("/healthz", healthz)
    application.router.add_get("/metrics", metrics_page)
    return application
