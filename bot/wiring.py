"""Settings in, parts out: the one place that turns configuration into agents and the router."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient

from agents.agent import Agent
from agents.connectors.paging import Notifier, Pager, PagerDutyPager, SlackPager
from agents.limits import SpendHold
from agents.llm import LLM, LLMSettings
from agents.pricing import Price
from agents.routes import ROUTES
from agents.runner import Runner
from agents.specialists.factory import SpecialistConfig, build_specialists
from agents.spend_budget import SpendBudgets
from bot.config_file import ApproverRule
from bot.doors import default_deps
from bot.errors import ConfigError
from bot.routing import classifier
from bot.settings import FIXES, Settings
from router.approvals import ApprovalRules, Approvers
from router.classifier import Classifier
from router.decider import Decider, DeciderSettings
from router.examples import Example
from router.llm_router import LLMRouter
from router.supervisor import SupervisorSettings
from storage.columns import utcnow
from storage.spend import Reservation, Spending
from storage.store import Store

PAGE_METADATA = "switchboard_page"
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")


class SlackNotifier:
    """How escalation reaches Slack without importing Slack: posts tagged, finds its posts.

    The tag is Slack message metadata with the caller's key; `find` reads the channel's recent
    history for it. History takes channel ids, so a configured name (`#oncall`) is looked up
    once through conversations.list.
    """

    def __init__(self, client: AsyncWebClient, *, scan: int = 200) -> None:
        self.client = client
        self.scan = scan
        self._ids: dict[str, str] = {}

    async def post(self, channel: str, text: str, key: str) -> str:
        response = await self.client.chat_postMessage(
            channel=channel,
            text=text,
            metadata={"event_type": PAGE_METADATA, "event_payload": {"key": key}},
        )
        if response.get("channel"):
            self._ids[channel] = str(response["channel"])
        return str(response.get("ts") or "")

    async def find(self, channel: str, key: str) -> str | None:
        history = await self.client.conversations_history(
            channel=await self._id(channel), limit=self.scan, include_all_metadata=True
        )
        for message in history.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == PAGE_METADATA and payload.get("key") == key:
                return str(message.get("ts"))
        return None

    async def _id(self, channel: str) -> str:
        if _CHANNEL_ID.match(channel):
            return channel
        if channel in self._ids:
            return self._ids[channel]
        name, cursor = channel.lstrip("#"), None
        while True:
            page = await self.client.conversations_list(
                types="public_channel,private_channel", limit=1000, cursor=cursor
            )
            for found in page.get("channels") or []:
                if found.get("name") == name:
                    self._ids[channel] = str(found["id"])
                    return self._ids[channel]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                raise LookupError(f"no channel named {channel} is visible to the bot")


class StoredLimits:
    """`agents.limits.SpendLimits` over the database: totals shared by every replica."""

    def __init__(self, spending: Spending) -> None:
        self.spending = spending

    async def reserve(
        self, holds: Sequence[SpendHold], *, limit_units: int, window: timedelta
    ) -> bool:
        return await self.spending.reserve(
            [Reservation(h.key, h.scopes, h.units) for h in holds],
            limit=limit_units,
            since=utcnow() - window,
        )

    async def release(self, key: str) -> None:
        await self.spending.release(key)


def runner_for(settings: Settings, store: Store) -> Runner:
    """The agent loop, with approval limits on totals kept in the database."""
    return Runner(
        LLM(llm_settings(settings)),
        limits=StoredLimits(store.spending),
        window=settings.file.billing.totals_window,
    )


def pager(settings: Settings, notifier: Notifier) -> Pager:
    key = settings.env.pagerduty_routing_key
    if key is not None:
        return PagerDutyPager(key.get_secret_value())
    escalation = settings.file.escalation
    return SlackPager(notifier, escalation.oncall_channel, escalation.oncall_usergroup)


def build_agents(settings: Settings, store: Store, notifier: Notifier) -> dict[str, Agent]:
    file = settings.file
    deps = default_deps(
        store,
        ledger_path=Path(settings.env.demo_ledger_path),
        knowledge_dir=Path(file.technical.knowledge_dir) if file.technical.knowledge_dir else None,
        health_checks=file.technical.health_checks,
        health_timeout=file.technical.health_timeout.total_seconds(),
        pager=pager(settings, notifier),
    )
    if file.billing.connector == "stripe":
        key = settings.env.stripe_api_key
        if key is None:
            raise ConfigError(
                "STRIPE_API_KEY",
                "is required by billing.connector = 'stripe'",
                FIXES["STRIPE_API_KEY"],
            )
        from agents.connectors.stripe_billing import StripeBilling  # only when configured

        deps = replace(deps, billing=StripeBilling(key.get_secret_value()))
    models: dict[str, str | None] = {
        name: (file.agents[name].model if name in file.agents else None) or settings.env.model
        for name in ROUTES
    }
    config = SpecialistConfig(
        models=models,
        refund_approval_above=file.billing.refund_approval_above,
        two_approvers_above=file.billing.two_approvers_above,
        oncall_channel=file.escalation.oncall_channel,
        oncall_usergroup=file.escalation.oncall_usergroup,
    )
    return build_specialists(deps, config)


async def stored_classifier(settings: Settings, store: Store) -> Classifier:
    """The classifier for this deployment: the shipped examples plus every stored correction."""
    rows = await store.corrections.all()
    corrected = [Example(row.text, row.to_route) for row in rows]
    return await asyncio.to_thread(classifier, settings, corrected)  # training takes seconds


def correctors(settings: Settings) -> list[str]:
    """Who may correct a route: `router.correctors`, else whoever approves by default."""
    rule = settings.file.router.correctors or settings.file.approvals.default
    return [*rule.users, *rule.groups]


def decider_for(settings: Settings, llm: LLM, trained: Classifier | None = None) -> Decider:
    router = settings.file.router
    model = router.model or settings.env.model
    return Decider(
        trained or classifier(settings),
        DeciderSettings(llm_threshold=router.llm_threshold),
        LLMRouter(llm, model) if model else None,
    )


def _approvers(rule: ApproverRule) -> Approvers:
    return Approvers(tuple(rule.users), tuple(rule.groups), rule.required)


def approval_rules(settings: Settings) -> ApprovalRules:
    config = settings.file.approvals
    return ApprovalRules(
        default=_approvers(config.default),
        by_agent={name: _approvers(rule) for name, rule in config.agents.items()},
        by_tool={name: _approvers(rule) for name, rule in config.tools.items()},
        expires_after=config.expires_after,
    )


def llm_settings(settings: Settings) -> LLMSettings:
    models = settings.file.models
    return LLMSettings(
        timeout=models.timeout.total_seconds(),
        retries=models.retries,
        fallbacks=tuple(models.fallbacks),
        breaker_threshold=models.breaker_after,
        breaker_cooldown=models.breaker_cooldown.total_seconds(),
        failure_budget=models.failure_budget.total_seconds(),
        prices={
            model: Price(price.input_per_million, price.output_per_million)
            for model, price in models.prices.items()
        },
    )


def spend_budgets(settings: Settings) -> SpendBudgets:
    budgets = settings.file.budgets
    return SpendBudgets(
        budgets.per_channel_daily_usd, budgets.per_thread_usd, budgets.total_daily_usd
    )


def supervisor_settings(settings: Settings) -> SupervisorSettings:
    router = settings.file.router
    return SupervisorSettings(
        max_hops=router.max_hops,
        turn_deadline=router.turn_deadline,
        budgets=spend_budgets(settings),
    )
