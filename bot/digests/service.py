"""Digests: a window's figures as a Slack message with a chart in its thread, posted once.

A run is recorded in `digest_runs`, unique per (digest, period start), before anything is
composed, so two schedulers (or a scheduler and a person asking at the same minute) post a
period once. The message goes through the outbox like every other message; the chart follows
into its thread through Slack's three-step external upload (`files_upload_v2`: get an upload
URL, POST the bytes, complete the upload), which the outbox has no place for.

A run holds a lease while it works; a run whose process died is retried once the lease lapses
(`retry`, called by the scheduler's leader). The message cannot go out twice (its outbox key is
the period's); the chart could, if the process died between uploading it and finishing the run.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any, Literal
from zoneinfo import ZoneInfo

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config_file import DigestConfig, parse_duration
from bot.digests.view import DigestView, alt_text, blocks, chart_png, fallback_text
from bot.errors import SwitchboardError
from bot.slack.outbox import Sender
from storage.columns import utcnow
from storage.figures import WindowFigures
from storage.outbox import FAILED, POSTED, Outgoing
from storage.store import Store
from storage.tables import DigestRun

log = structlog.stdlib.get_logger(__name__)

CHART_SPAN = timedelta(days=7)
LinkFinder = Callable[[str, str], Awaitable[str | None]]


class DigestError(SwitchboardError):
    """A digest that cannot be sent: unknown name, Slack refused it, or it never went out."""


@dataclass(frozen=True, kw_only=True)
class Digest:
    """A composed digest, ready to post (or to print, for a dry run)."""

    config: DigestConfig
    start: datetime
    end: datetime
    current: WindowFigures
    previous: WindowFigures
    text: str
    blocks: list[dict[str, Any]]
    chart: bytes | None
    chart_alt: str
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def chart_days(self) -> int:
        return max(self.end - self.start, CHART_SPAN).days

    @property
    def chart_name(self) -> str:
        return f"{self.config.name}-{self.end:%Y%m%dT%H%M}.png"

    def summary(self) -> str:
        """The figures in plain lines, for the CLI and the benchmark."""
        c, a = self.current.conversations, self.current.approvals
        p50, p95 = c.first_reply_p50, c.first_reply_p95
        return "\n".join(
            [
                f"window {self.start:%Y-%m-%d %H:%M} → {self.end:%Y-%m-%d %H:%M} UTC",
                f"conversations {c.total}: resolved {c.resolved}, escalated {c.escalated}, "
                f"waiting on approval {c.waiting_approval}",
                f"by route {c.by_route}",
                f"by specialist {c.by_specialist}",
                f"first reply p50 {p50} s, p95 {p95} s",
                f"approvals requested {a.requested}, approved {a.approved}, rejected "
                f"{a.rejected}, expired {a.expired}, median decision {a.median_decision_seconds} s",
                f"topics {[(w, round(s, 3)) for w, s in self.current.topics.top()]}",
                "usage "
                + ", ".join(
                    f"{u.agent} {u.tokens} tok ${u.cost_usd:.2f}" for u in self.current.usage
                ),
                f"blocks {len(self.blocks)}, chart {len(self.chart or b'')} bytes",
            ]
        )


@dataclass(frozen=True, kw_only=True)
class Sent:
    """What happened to a request to send: posted now, or already posted for that period."""

    status: Literal["posted", "already"]
    name: str
    channel: str
    period_start: datetime
    ts: str | None = None
    permalink: str | None = None


def find_config(configs: list[DigestConfig], name: str | None) -> DigestConfig:
    """The named digest; with no name, the only one configured."""
    if name is None and len(configs) == 1:
        return configs[0]
    for config in configs:
        if config.name == name:
            return config
    known = ", ".join(sorted(c.name for c in configs)) or "none configured"
    what = f"no digest named {name!r}" if name else "say which digest"
    raise DigestError(f"{what} (digests: {known}). Add it under [[digests]] in switchboard.toml")


def on_demand_end(now: datetime) -> datetime:
    """The end of the current minute: it holds everything said so far, and asking twice in one
    minute names the same period (posted once)."""
    return now.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)


def day_starts(start: datetime, end: datetime, zone: ZoneInfo) -> list[datetime]:
    """Local midnights from the day holding `start` up to `end`, as UTC instants (DST-safe)."""
    day = start.astimezone(zone).date()
    out = []
    while (midnight := datetime.combine(day, clock_time(0), tzinfo=zone).astimezone(UTC)) < end:
        out.append(midnight)
        day += timedelta(days=1)
    return out


async def compose(
    store: Store,
    config: DigestConfig,
    end: datetime,
    *,
    window: timedelta | None = None,
    links: LinkFinder | None = None,
    chart: bool = True,
) -> Digest:
    """Everything the digest shows for the window ending at `end`, and the previous one."""
    window = window or config.window
    start, zone = end - window, ZoneInfo(config.timezone)
    timings: dict[str, float] = {}
    began = time.perf_counter()
    current, previous, (items, total), daily = await asyncio.gather(
        store.reports.figures(start, end),
        store.reports.figures(start - window, start),
        store.reports.open_items(),
        store.reports.daily_routes(day_starts(end - max(window, CHART_SPAN), end, zone), end),
    )
    timings["queries"] = time.perf_counter() - began
    began = time.perf_counter()
    threads = list(dict.fromkeys((i.channel, i.thread_ts) for i in items)) if links else []
    found_links = await asyncio.gather(*(links(*thread) for thread in threads)) if links else []
    found = {t: link for t, link in zip(threads, found_links, strict=True) if link}
    timings["permalinks"] = time.perf_counter() - began
    began = time.perf_counter()
    view = DigestView(
        name=config.name,
        zone=zone,
        window=window,
        current=current,
        previous=previous,
        open_items=items,
        open_total=total,
        links=found,
    )
    rendered, text = blocks(view), fallback_text(view)
    timings["blocks"] = time.perf_counter() - began
    began = time.perf_counter()
    png = None
    if chart and not current.empty:
        title = f"New conversations per route per day ({config.name})"
        png = await asyncio.to_thread(chart_png, daily, zone, title)
    timings["chart"] = time.perf_counter() - began
    alt = alt_text(daily, zone)
    return Digest(
        config=config,
        start=start,
        end=end,
        current=current,
        previous=previous,
        text=text,
        blocks=rendered,
        chart=png,
        chart_alt=alt,
        timings=timings,
    )


class Digests:
    """Sends digests: on a schedule (`run_scheduled`) and on demand (`send`)."""

    def __init__(
        self,
        store: Store,
        client: AsyncWebClient,
        sender: Sender,
        configs: list[DigestConfig],
        *,
        clock: Callable[[], datetime] = utcnow,
        post_timeout: float = 60.0,
        run_lease: timedelta = timedelta(minutes=2),
    ) -> None:
        self.store = store
        self.client = client
        self.sender = sender
        self.configs = {c.name: c for c in configs}
        self.clock = clock
        self.post_timeout = post_timeout
        self.run_lease = run_lease
        self.owner = f"digests-{socket.gethostname()}-{os.getpid()}-{id(self):x}"

    def config(self, name: str | None) -> DigestConfig:
        return find_config(list(self.configs.values()), name)

    async def send(self, name: str | None, *, window: timedelta | None = None) -> Sent:
        """On demand: the window ending now (to the minute, so a double request posts once)."""
        config = self.config(name)
        return await self.deliver(config, on_demand_end(self.clock()), window or config.window)

    async def run_scheduled(self, name: str, fire_time: datetime) -> Sent | None:
        """For the scheduler: the window ending at the cron time this run was scheduled for."""
        config = self.configs.get(name)
        if config is None:
            log.warning("digest.unknown", digest=name)
            return None
        sent = await self.deliver(config, fire_time.astimezone(UTC), config.window)
        log.info("digest.scheduled", digest=name, status=sent.status, period=str(sent.period_start))
        return sent

    async def retry(self, run: DigestRun) -> Sent | None:
        """Do again a run left `running` by a process that died (see `DigestRuns.stale`)."""
        config = self.configs.get(run.name)
        if config is None:
            return None
        log.info("digest.retry", digest=run.name, period=str(run.period_start))
        return await self.deliver(config, run.period_end, run.period_end - run.period_start)

    async def deliver(self, config: DigestConfig, end: datetime, window: timedelta) -> Sent:
        start = end - window
        run = await self.store.digests.start(
            config.name,
            period_start=start,
            period_end=end,
            channel=config.channel,
            owner=self.owner,
            lease=self.run_lease,
            now=self.clock(),
        )
        if run is None or run.id is None:
            return Sent(
                status="already", name=config.name, channel=config.channel, period_start=start
            )
        heartbeat = asyncio.create_task(self._hold(run.id))
        try:
            digest = await compose(self.store, config, end, window=window, links=self._permalink)
            ts = await self._post(digest, start)
            channel_id, permalink = await self._locate(config.channel, ts)
            if digest.chart is not None:
                await self.client.files_upload_v2(
                    channel=channel_id,
                    thread_ts=ts,
                    content=digest.chart,
                    filename=digest.chart_name,
                    title=f"New conversations per route per day ({digest.chart_days} days)",
                    alt_txt=digest.chart_alt,
                )
        except Exception as exc:
            await self.store.digests.fail(run.id, f"{type(exc).__name__}: {exc}")
            log.exception("digest.failed", digest=config.name)
            raise
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
        await self.store.digests.finish(run.id, slack_ts=ts)
        return Sent(
            status="posted",
            name=config.name,
            channel=channel_id,
            period_start=start,
            ts=ts,
            permalink=permalink,
        )

    async def _hold(self, run_id: int) -> None:
        """Renew the run's lease while it works, so no one takes it over."""
        while True:
            await asyncio.sleep(self.run_lease.total_seconds() / 3)
            await self.store.digests.renew(run_id, self.owner, self.run_lease, now=self.clock())

    async def _post(self, digest: Digest, start: datetime) -> str:
        key = f"digest:{digest.config.name}:{start:%Y%m%dT%H%M%S}"
        reply = Outgoing(
            dedupe_key=key, channel=digest.config.channel, text=digest.text, blocks=digest.blocks
        )
        row_id = await self.store.outbox.enqueue(reply)
        if row_id is None:
            row = await self.store.outbox.by_key(key)
            assert row is not None and row.id is not None
            row_id = row.id
        self.sender.notify()
        return await self._wait_posted(row_id)

    async def _wait_posted(self, row_id: int) -> str:
        """Until the outbox row is out. Another replica's sender may post it, so the database
        is the truth; this process's sender only wakes us sooner."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.post_timeout
        while True:
            row = await self.store.outbox.get(row_id)
            if row is not None and row.status == POSTED and row.slack_ts:
                return row.slack_ts
            if row is None or row.status == FAILED:
                error = row.error if row else "row vanished"
                raise DigestError(f"Slack did not take the digest: {error}")
            if loop.time() >= deadline:
                raise DigestError(f"the digest was not posted within {self.post_timeout:.0f} s")
            try:
                async with asyncio.timeout(min(1.0, deadline - loop.time())):
                    await self.sender.wait_posted(row_id)
            except TimeoutError:
                pass

    async def _locate(self, channel: str, ts: str) -> tuple[str, str | None]:
        """The channel's id (the upload needs an id; the config may say `#support`) and the
        digest's permalink."""
        try:
            found = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError:
            return channel, None
        link = found.get("permalink")
        return str(found.get("channel") or channel), str(link) if link else None

    async def _permalink(self, channel: str, ts: str) -> str | None:
        return (await self._locate(channel, ts))[1]


class DigestCommand:
    """`/switchboard digest [name] [window]`: post a digest now to its channel."""

    def __init__(self, digests: Digests) -> None:
        self.digests = digests

    async def __call__(self, args: str, user_id: str, channel_id: str) -> str:
        words = args.split()
        window = None
        if words and words[-1][:1].isdigit():
            try:
                parsed = parse_duration(words.pop())
            except ValueError as exc:
                return str(exc)
            assert isinstance(parsed, timedelta)
            window = parsed
        try:
            sent = await self.digests.send(words[0] if words else None, window=window)
        except DigestError as exc:
            return f"Cannot send the digest: {exc}"
        except Exception as exc:  # logged with its traceback by `deliver`
            return f"The digest failed ({type(exc).__name__}); the bot's log has the details."
        if sent.status == "already":
            return f"Digest *{sent.name}* for this minute was already posted to <#{sent.channel}>."
        where = f"<{sent.permalink}|posted>" if sent.permalink else "posted"
        return f"Digest *{sent.name}* {where} to <#{sent.channel}>."
