"""Signed HTTP delivery to the app's request URL, with Slack's retry behaviour.

Events: JSON body. Slash commands: form-encoded fields. Interactions: form-encoded
``payload=<json>``. Every request carries the v0 signature. An event that gets no 2xx within
the ack timeout is retried with ``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason`` and the same
event_id, after each of the configured delays; ``X-Slack-No-Retry: 1`` stops the retries.
Slash commands and interactions are tried once: Slack shows the user an error instead.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from typing import Any

import aiohttp

from .config import LocalSlackConfig
from .delivery import Delivery, DeliveryAttempt, Dispatcher
from .signing import signed_headers


def encode_body(delivery: Delivery) -> tuple[bytes, str]:
    """The request body and content type Slack uses for this kind of delivery."""
    if delivery.kind == "slash_command":
        form = {k: str(v) for k, v in delivery.payload.items()}
        return urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
    if delivery.kind == "interactive":
        form = {"payload": json.dumps(delivery.payload)}
        return urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
    return json.dumps(delivery.payload).encode(), "application/json"


def parse_answer(body: str) -> dict[str, Any] | None:
    """The app's answer body: JSON object, plain text as {"text": ...}, or None when empty."""
    body = body.strip()
    if not body:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return {"text": body}
    return parsed if isinstance(parsed, dict) else {"text": body}


class HttpTransport:
    """Posts deliveries to ``request_url``; keeps references to its background tasks."""

    name = "http"

    def __init__(
        self,
        config: LocalSlackConfig,
        dispatcher: Dispatcher,
        session: aiohttp.ClientSession,
        request_url: str,
        signing_secret: str,
    ) -> None:
        self.config = config
        self.dispatcher = dispatcher
        self.session = session
        self.request_url = request_url
        self.signing_secret = signing_secret
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, delivery: Delivery) -> None:
        """Start the attempts for one delivery in the background."""
        task = asyncio.get_running_loop().create_task(self._deliver(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def describe(self) -> str:
        """Where deliveries go."""
        return f"signed HTTP POSTs to {self.request_url}"

    async def close(self) -> None:
        """Cancel pending retries."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _deliver(self, delivery: Delivery) -> None:
        retries = self.config.retry_delays if delivery.kind == "event" else ()
        reason: str | None = None
        for number in range(len(retries) + 1):
            if number > 0:
                await asyncio.sleep(retries[number - 1])
            attempt, answer, no_retry = await self.attempt(delivery, number, reason)
            if attempt.ok:
                self.dispatcher.settle(delivery, "acked", answer)
                return
            reason = attempt.error
            if no_retry:
                break
        self.dispatcher.settle(delivery, "failed")

    async def attempt(
        self, delivery: Delivery, number: int, reason: str | None
    ) -> tuple[DeliveryAttempt, dict[str, Any] | None, bool]:
        """One signed POST; returns the attempt, the parsed answer and X-Slack-No-Retry."""
        body, content_type = encode_body(delivery)
        headers = signed_headers(self.signing_secret, body, content_type)
        if number > 0:
            headers["X-Slack-Retry-Num"] = str(number)
            headers["X-Slack-Retry-Reason"] = reason or "unknown_error"
        attempt = DeliveryAttempt(
            number=number,
            transport="http",
            started=time.time(),
            retry_reason=reason if number else None,
        )
        attempt.headers = dict(headers)
        self.dispatcher.record(delivery, attempt)
        answer: dict[str, Any] | None = None
        no_retry = False
        timeout = aiohttp.ClientTimeout(total=self.config.ack_timeout)
        try:
            async with self.session.post(
                self.request_url, data=body, headers=headers, timeout=timeout
            ) as resp:
                attempt.status = resp.status
                text = await resp.text()
                no_retry = resp.headers.get("X-Slack-No-Retry") == "1"
                if 200 <= resp.status < 300:
                    answer = parse_answer(text)
                else:
                    attempt.error = "http_error"
        except TimeoutError:
            attempt.error = "http_timeout"
        except aiohttp.ClientConnectionError:
            attempt.error = "connection_failed"
        except aiohttp.ClientError:
            attempt.error = "unknown_error"
        attempt.finished = time.time()
        self.dispatcher.record(delivery, attempt)
        return attempt, answer, no_retry
