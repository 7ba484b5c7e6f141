"""StatusChecker against a local aiohttp server on a free port: healthy, failing, hung, absent.

No sleeps: the hung endpoint waits on an event nobody sets, and the concurrency test has two
endpoints that each wait for the other to be called, which only a concurrent check_all passes.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp import web

from agents.connectors.status import StatusChecker, UnknownServiceError


class Upstream:
    """The services under check; records which handlers were reached."""

    def __init__(self) -> None:
        self.slow_reached = asyncio.Event()
        self.never = asyncio.Event()
        self.arrived = {"left": asyncio.Event(), "right": asyncio.Event()}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthy", self.healthy)
        app.router.add_get("/down", self.down)
        app.router.add_get("/slow", self.slow)
        app.router.add_get("/moved", self.moved)
        app.router.add_get("/pair/{side}", self.pair)
        return app

    async def healthy(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def down(self, request: web.Request) -> web.Response:
        return web.Response(status=503, text="  Down for\n maintenance until 14:00 UTC ")

    async def slow(self, request: web.Request) -> web.Response:
        self.slow_reached.set()
        await self.never.wait()  # never set: the check must give up on its own
        return web.Response(text="too late")

    async def moved(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/healthy")

    async def pair(self, request: web.Request) -> web.Response:
        side = request.match_info["side"]
        other = "right" if side == "left" else "left"
        self.arrived[side].set()
        await self.arrived[other].wait()
        return web.Response(text=side)


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


@pytest.fixture
async def base_url(upstream: Upstream) -> AsyncIterator[str]:
    # handler_cancellation: the hung handler is cancelled when the checker hangs up.
    runner = web.AppRunner(upstream.app(), handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A URL whose port refuses connections: bound, so nobody takes it, but not listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/health"


async def test_healthy_service(base_url: str) -> None:
    checker = StatusChecker({"API": f"{base_url}/healthy"}, timeout=5)
    status = await checker.check(" api ")
    assert (status.name, status.ok, status.http_status) == ("api", True, 200)
    assert status.latency_ms >= 0
    assert status.detail.startswith("HTTP 200 OK in ") and status.detail.endswith(" ms")


async def test_redirect_is_followed(base_url: str) -> None:
    status = await StatusChecker({"auth": f"{base_url}/moved"}, timeout=5).check("auth")
    assert status.ok and status.http_status == 200


async def test_error_status_is_not_ok_and_shows_the_page(base_url: str) -> None:
    status = await StatusChecker({"webhooks": f"{base_url}/down"}, timeout=5).check("webhooks")
    assert (status.ok, status.http_status) == (False, 503)
    assert status.detail == "HTTP 503 Service Unavailable: Down for maintenance until 14:00 UTC"


async def test_hung_service_times_out(base_url: str, upstream: Upstream) -> None:
    status = await StatusChecker({"dashboard": f"{base_url}/slow"}, timeout=0.2).check("dashboard")
    assert upstream.slow_reached.is_set()  # it connected; the answer is what never came
    assert (status.ok, status.http_status) == (False, None)
    assert status.detail == f"no answer within 0.2 s from {base_url}/slow"
    assert status.latency_ms >= 200


async def test_refused_connection(refused_url: str) -> None:
    status = await StatusChecker({"billing": refused_url}, timeout=5).check("billing")
    assert (status.ok, status.http_status) == (False, None)
    assert status.detail.startswith(f"could not connect to {refused_url}: ")
    assert "refused" in status.detail


async def test_unknown_service_lists_the_known_ones() -> None:
    checker = StatusChecker({"webhooks": "http://x.invalid", "api": "http://y.invalid"})
    with pytest.raises(
        UnknownServiceError, match=r"Unknown service 'payroll'\. Known services: api, webhooks\."
    ):
        await checker.check("payroll")
    with pytest.raises(UnknownServiceError, match="none are configured"):
        await StatusChecker({}).check("api")


async def test_check_all_runs_the_checks_concurrently(base_url: str, refused_url: str) -> None:
    checker = StatusChecker(
        {
            "left": f"{base_url}/pair/left",  # answers only once "right" was called, and
            "right": f"{base_url}/pair/right",  # vice versa: sequential checks would time out
            "api": f"{base_url}/healthy",
            "billing": refused_url,
        },
        timeout=10,
    )
    results = await checker.check_all()
    assert [(s.name, s.ok) for s in results] == [
        ("api", True), ("billing", False), ("left", True), ("right", True),
    ]  # fmt: skip


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        StatusChecker({}, timeout=0)
