"""Service health checks: "is the API up?" answered by asking it, not by guessing.

The technical and triage agents check the services a customer reports broken before they
answer, so a reply can say "the dashboard answers normally from here (HTTP 200 in 84 ms)" or
"webhooks is failing: HTTP 503". Each service is one URL, given in the settings, usually its
health endpoint; a check is one GET with a deadline.

A check never raises for a sick service: refused connections, timeouts, DNS failures and
error statuses all come back as a `ServiceStatus` with ``ok=False`` and a ``detail`` a person
can read, because "the check failed" is itself the answer. Only asking for a service that is
not configured raises (`UnknownServiceError`, which lists the ones that are).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus

import aiohttp

from agents.connectors import ConnectorError

__all__ = ["ServiceStatus", "StatusChecker", "UnknownServiceError"]

_SNIPPET_BYTES = 300
_SNIPPET_CHARS = 160


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceStatus:
    """The result of one check. ``http_status`` is None when no HTTP answer came back."""

    name: str
    ok: bool
    http_status: int | None
    latency_ms: float
    detail: str


class UnknownServiceError(ConnectorError):
    """A check was asked for a service that has no URL configured."""

    def __init__(self, service: str, known: list[str]) -> None:
        self.service = service
        self.known = known
        listed = ", ".join(known) if known else "none are configured"
        super().__init__(f"Unknown service {service!r}. Known services: {listed}.")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _snippet(body: bytes) -> str:
    """The start of an error page, on one line: often the only hint of what is wrong."""
    text = " ".join(body.decode("utf-8", errors="replace").split())
    return text if len(text) <= _SNIPPET_CHARS else text[: _SNIPPET_CHARS - 1] + "…"


def _os_reason(exc: aiohttp.ClientConnectorError) -> str:
    """ "connection refused" rather than asyncio's "Connect call failed ('127.0.0.1', 8080)"."""
    error = exc.os_error
    if isinstance(error, socket.gaierror):
        return f"cannot resolve the host name ({error.strerror or error})"
    return os.strerror(error.errno).lower() if error and error.errno else str(exc)


class StatusChecker:
    """Checks the services in ``checks`` (name → URL), each within ``timeout`` seconds.

    A service is healthy when its URL answers 2xx (after redirects) before the deadline. The
    deadline covers everything (DNS, connect, headers, the error body we read), so a hung
    service cannot hold up an agent's reply for longer than ``timeout``.
    """

    def __init__(self, checks: Mapping[str, str], timeout: float = 5.0) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._checks = {name.strip().lower(): url for name, url in checks.items()}
        self._timeout = timeout

    @property
    def services(self) -> list[str]:
        """The configured service names, sorted."""
        return sorted(self._checks)

    async def check(self, service: str) -> ServiceStatus:
        """Check one service by name (case-insensitive)."""
        name = service.strip().lower()
        url = self._checks.get(name)
        if url is None:
            raise UnknownServiceError(service, self.services)
        async with aiohttp.ClientSession() as session:
            return await self._probe(session, name, url)

    async def check_all(self) -> list[ServiceStatus]:
        """Check every service at once; results in `services` order.

        Concurrent, so the whole round takes as long as the slowest check, not the sum.
        """
        async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(self._probe(session, name, self._checks[name]))
                for name in self.services
            ]
        return [task.result() for task in tasks]

    async def _probe(self, session: aiohttp.ClientSession, name: str, url: str) -> ServiceStatus:
        started = time.perf_counter()

        def result(ok: bool, status: int | None, detail: str) -> ServiceStatus:
            latency = round((time.perf_counter() - started) * 1000, 1)
            return ServiceStatus(
                name=name, ok=ok, http_status=status, latency_ms=latency, detail=detail
            )

        try:
            async with asyncio.timeout(self._timeout):
                async with session.get(url) as response:
                    status = response.status
                    ok = 200 <= status < 300
                    body = b"" if ok else await response.content.read(_SNIPPET_BYTES)
        except TimeoutError:
            return result(False, None, f"no answer within {self._timeout:g} s from {url}")
        except aiohttp.ClientConnectorError as exc:
            return result(False, None, f"could not connect to {url}: {_os_reason(exc)}")
        except aiohttp.ClientError as exc:
            return result(False, None, f"request to {url} failed: {exc or type(exc).__name__}")
        latency = round((time.perf_counter() - started) * 1000)
        summary = f"HTTP {status} {_reason(status)}".rstrip()
        if ok:
            return result(True, status, f"{summary} in {latency} ms")
        snippet = _snippet(body)
        return result(False, status, f"{summary}: {snippet}" if snippet else summary)
