"""Who may approve: Slack user ids, plus members of user groups resolved through the Web API.

Group membership is cached for a while (a setting), so a burst of clicks costs one API call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from slack_sdk.web.async_client import AsyncWebClient


class GroupMembers:
    def __init__(
        self, client: AsyncWebClient, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client = client
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    async def members(self, group: str) -> frozenset[str]:
        cached = self._cache.get(group)
        if cached is not None and self.clock() - cached[0] < self.ttl:
            return cached[1]
        response = await self.client.usergroups_users_list(usergroup=group)
        users = frozenset(str(u) for u in response.get("users") or [])
        self._cache[group] = (self.clock(), users)
        return users

    async def allowed(self, user: str, approvers: Sequence[str]) -> bool:
        if user in approvers:
            return True
        for group in (a for a in approvers if a.startswith("S")):
            if user in await self.members(group):
                return True
        return False


def describe(approvers: Sequence[str]) -> str:
    named = [f"<!subteam^{a}>" if a.startswith("S") else f"<@{a}>" for a in approvers]
    return ", ".join(named) if named else "nobody (no approvers are configured)"
