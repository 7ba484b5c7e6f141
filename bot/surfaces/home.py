"""The App Home tab: published when a person opens it, and again when what it shows changes.

What it shows changes with every turn, card and decision, and all of those leave through the
outbox, so a posted message is the signal to refresh (`changed()`). Only people who opened the
tab lately are refreshed, at most once per `interval` each: the right to publish is claimed in
the database, so several replicas noticing one change publish once; a change inside the
interval is published when it ends, so the tab never stays stale. Opening the tab and clicking
in it publish at once: a person is looking.

Approve in the tab goes to the approval desk, the same call as the card's button, with the same
rules (never the requester, only configured approvers, expiry enforced) and the same audit;
the desk's answer is shown at the top of the tab.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog
from slack_bolt.async_app import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.approvals.desk import ApprovalDesk
from bot.config_file import DigestConfig
from bot.digests.scheduler import cron_trigger
from bot.surfaces.home_view import DigestLine, HomeData, home_view
from storage.columns import utcnow
from storage.store import Store
from storage.tables import Approval

log = structlog.stdlib.get_logger(__name__)

VIEWERS_FOR = timedelta(minutes=30)  # refreshed on change for this long after opening the tab
ESCALATIONS_FOR = timedelta(days=7)
ZONE_CACHE = 3600.0


class Home:
    def __init__(
        self,
        store: Store,
        client: AsyncWebClient,
        desk: ApprovalDesk,
        digests: list[DigestConfig],
        *,
        interval: timedelta = timedelta(seconds=5),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.client = client
        self.desk = desk
        self.digests = list(digests)
        self.interval = interval
        self.clock = clock
        self._later: dict[str, asyncio.Task[None]] = {}
        self._refresh: asyncio.Task[None] | None = None
        self._again = False
        self._stopped = False
        self._zones: dict[str, tuple[float, str]] = {}

    # -- Bolt listeners ----------------------------------------------------------------------

    async def on_opened(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """app_home_opened: remember the viewer and publish their tab now."""
        if event.get("tab", "home") != "home":
            return
        user = str(event.get("user") or "")
        await self.store.home_views.opened(user, str(body.get("team_id") or ""), now=self.clock())
        await self.publish(user)

    async def on_approve(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Approve in the tab: the desk decides, as for the card; its answer tops the tab."""
        await ack()
        user = str(body["user"]["id"])
        click = str(action.get("action_ts") or body.get("trigger_id") or "")
        said = await self.desk.approve(str(action.get("value")), user, click, None)
        await self.publish(user, notice=said)

    # -- publishing --------------------------------------------------------------------------

    async def publish(self, user: str, notice: str = "") -> None:
        """Publish the person's tab now (they opened it or clicked in it)."""
        await self.store.home_views.published(user, now=self.clock())
        await self._publish(user, notice)

    async def _publish(self, user: str, notice: str = "") -> None:
        try:
            view = home_view(await self.data(user), notice)
            await self.client.views_publish(user_id=user, view=view)
        except (SlackApiError, OSError) as exc:
            log.warning("home.publish_failed", user=user, error=type(exc).__name__)

    def changed(self) -> None:
        """Something the tab shows changed: refresh recent viewers (in the background)."""
        if self._stopped:
            return
        if self._refresh is not None and not self._refresh.done():
            self._again = True
            return
        self._refresh = asyncio.create_task(self._refresh_all())

    async def _refresh_all(self) -> None:
        while True:
            self._again = False
            try:
                for viewer in await self.store.home_views.viewers(self.clock() - VIEWERS_FOR):
                    await self._refresh_one(viewer.user_id)
            except Exception:
                log.exception("home.refresh_failed")
            if not self._again:
                return

    async def _refresh_one(self, user: str) -> None:
        if user in self._later:
            return  # a publish is due at the end of the interval anyway
        now = self.clock()
        if await self.store.home_views.claim(user, self.interval, now=now):
            await self._publish(user)
            return
        row = await self.store.home_views.get(user)
        last = row.published_at if row is not None and row.published_at else now
        wait = max((last + self.interval - now).total_seconds(), 0.05)
        if not self._stopped:
            self._later[user] = asyncio.create_task(self._publish_later(user, wait))

    async def _publish_later(self, user: str, wait: float) -> None:
        try:
            await asyncio.sleep(wait)  # the end of the person's interval: a timer, not a wait
        finally:
            self._later.pop(user, None)
        await self._refresh_one(user)

    async def stop(self) -> None:
        self._stopped = True
        tasks = [t for t in (self._refresh, *self._later.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- what it shows -----------------------------------------------------------------------

    async def data(self, user: str) -> HomeData:
        """Everything the person's tab shows, from the database."""
        now = self.clock()
        zone = await self._zone(user)
        local = now.astimezone(ZoneInfo(zone))
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return HomeData(
            user=user,
            now=now,
            approvals=await self.waiting_for(user, now),
            incidents=await self.store.incidents.open_ones(),
            tickets=await self.store.tickets.open_ones(),
            escalations=await self.store.activity.escalations(now - ESCALATIONS_FOR),
            today=await self.store.activity.by_route(midnight.astimezone(now.tzinfo), now),
            zone=zone,
            digests=[self._digest(config, now) for config in self.digests],
        )

    async def waiting_for(self, user: str, now: datetime) -> list[Approval]:
        """Pending, unexpired approvals this person may approve and has not approved yet."""
        waiting = []
        for approval in await self.store.approvals.in_status("pending"):
            if approval.expires_at <= now:
                continue
            if await self.desk.may_decide(approval, user, "approve") is not None:
                continue
            if approval.required_approvals > 1:
                decisions = await self.store.approvals.decisions(approval.id)
                if any(d.user_id == user and d.decision == "approve" for d in decisions):
                    continue
            waiting.append(approval)
        return sorted(waiting, key=lambda a: a.expires_at)

    @staticmethod
    def _digest(config: DigestConfig, now: datetime) -> DigestLine:
        upcoming = cron_trigger(config).get_next_fire_time(None, now)
        return DigestLine(
            name=config.name,
            channel=config.channel,
            cron=config.cron,
            timezone=config.timezone,
            next_run=upcoming,
        )

    async def _zone(self, user: str) -> str:
        """The person's time zone (users.info, cached), for what "today" means to them."""
        cached = self._zones.get(user)
        if cached is not None and time.monotonic() - cached[0] < ZONE_CACHE:
            return cached[1]
        zone = "UTC"
        try:
            info = await self.client.users_info(user=user)
            ZoneInfo(str((info.get("user") or {}).get("tz") or "UTC"))
            zone = str((info.get("user") or {}).get("tz") or "UTC")
        except (SlackApiError, OSError, ZoneInfoNotFoundError, ValueError):
            pass
        self._zones[user] = (time.monotonic(), zone)
        return zone
