"""Settings in, parts out: the one place that turns configuration into agents and the router."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient

from agents.agent import Agent
from agents.connectors.paging import Notifier, Pager, PagerDutyPager, SlackPager
from agents.llm import LLM, LLMSettings
from agents.specialists.factory import SpecialistConfig, build_specialists, default_deps
from bot.config_file import ApproverRule
from bot.errors import ConfigError
from bot.settings import FIXES, Settings
from router.approvals import ApprovalRules, Approvers
from router.classifier import FastClassifier
from router.decider import Decider, DeciderSettings
from router.llm_router import LLMRouter
from router.supervisor import SupervisorSettings
from storage.store import Store


class SlackNotifier:
    """How escalation reaches Slack without importing Slack: posts a message, returns its ts."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def post(self, channel: str, text: str) -> str:
        response = await self.client.chat_postMessage(channel=channel, text=text)
        return str(response.get("ts") or "")


@cache
def classifier() -> FastClassifier:
    """Trained once per process from the examples shipped with the package (about a second)."""
    return FastClassifier.from_default_data()


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
    models = {
        name: (file.agents[name].model if name in file.agents else None) or settings.env.model
        for name in ("triage", "billing", "technical", "escalation")
    }
    config = SpecialistConfig(
        models=models,
        refund_approval_above=file.billing.refund_approval_above,
        two_approvers_above=file.billing.two_approvers_above,
        oncall_channel=file.escalation.oncall_channel,
        oncall_usergroup=file.escalation.oncall_usergroup,
    )
    return build_specialists(deps, config)


def decider_for(settings: Settings, llm: LLM) -> Decider:
    router = settings.file.router
    model = router.model or settings.env.model
    return Decider(
        classifier(),
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
    )


def supervisor_settings(settings: Settings) -> SupervisorSettings:
    router = settings.file.router
    return SupervisorSettings(max_hops=router.max_hops, turn_deadline=router.turn_deadline)
