"""The structured part of the configuration, from `switchboard.toml`.

Environment variables carry deployment facts and secrets; the TOML file carries what has shape:
who may approve what, digest schedules, per-agent models, risk thresholds, channels. Unknown keys
are errors, so a typo (`aproovals`) is reported instead of silently ignored.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from agents.routes import Route

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: object) -> object:
    """Accept `90s`, `30m`, `24h`, `7d`, `2w` (and plain seconds), as people write them."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a duration; write it like 30m, 24h or 7d")
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApproverRule(_Section):
    """Who may approve: Slack user ids and/or user group ids (`S...`), and how many must."""

    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    required: int = Field(default=1, ge=1, le=5)


class ApprovalsConfig(_Section):
    channel: str | None = None
    expires_after: Duration = timedelta(hours=4)
    default: ApproverRule = ApproverRule()
    agents: dict[str, ApproverRule] = Field(default_factory=dict)
    tools: dict[str, ApproverRule] = Field(default_factory=dict)
    group_cache: Duration = timedelta(minutes=5)


class DigestConfig(_Section):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    channel: str
    cron: str
    timezone: str = "UTC"
    window: Duration = timedelta(hours=24)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like Europe/Berlin"
            ) from exc
        return value

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError(
                f"{value!r} is not a cron expression; write five fields like '0 9 * * 1-5'"
            )
        return value


class AgentConfig(_Section):
    model: str | None = None


class RouterConfig(_Section):
    model: str | None = None
    llm_threshold: float = Field(default=0.55, ge=0, le=1)
    max_hops: int = Field(default=3, ge=0, le=10)
    turn_deadline: Duration = timedelta(seconds=60)
    # Who may say a reply came from the wrong specialist; None: whoever may approve by default.
    correctors: ApproverRule | None = None
    # The sentence encoder extra: "auto" uses it when installed, "on" requires it, "off" not.
    encoder: Literal["auto", "on", "off"] = "auto"
    encoder_model: str | None = None  # an ONNX export of all-MiniLM-L6-v2 instead of the package
    encoder_below: float = Field(default=0.8, ge=0, le=1)  # fast confidence under which it asks


class ModelPrice(_Section):
    """What a model costs in US dollars per million tokens (for models litellm does not price,
    or to override its price)."""

    input_per_million: float = Field(ge=0)
    output_per_million: float = Field(ge=0)


class ModelsConfig(_Section):
    """How model calls fail over: fallbacks in order, then the offline model; and prices."""

    fallbacks: list[str] = Field(default_factory=list)
    timeout: Duration = timedelta(seconds=15)
    failure_budget: Duration = timedelta(seconds=15)
    retries: int = Field(default=2, ge=0, le=5)
    breaker_after: int = Field(default=5, ge=1, le=100)
    breaker_cooldown: Duration = timedelta(seconds=60)
    # Keyed by the model string as configured (`ollama/llama3.1`, `openai/my-fine-tune`).
    prices: dict[str, ModelPrice] = Field(default_factory=dict)


class BudgetsConfig(_Section):
    """Dollars of model calls; past one, turns run on the offline model (days in UTC)."""

    per_channel_daily_usd: float | None = Field(default=None, ge=0)
    per_thread_usd: float | None = Field(default=None, ge=0)
    total_daily_usd: float | None = Field(default=None, ge=0)


class BillingConfig(_Section):
    connector: Literal["demo", "stripe"] = "demo"
    refund_approval_above: float = Field(default=0, ge=0)
    two_approvers_above: float | None = Field(default=None, ge=0)
    totals_window: Duration = timedelta(hours=24)


class EscalationConfig(_Section):
    oncall_channel: str = "#oncall"
    oncall_usergroup: str | None = None


class TechnicalConfig(_Section):
    knowledge_dir: str | None = None
    health_checks: dict[str, str] = Field(default_factory=dict)
    health_timeout: Duration = timedelta(seconds=3)


class FileConfig(_Section):
    """Everything `switchboard.toml` may hold; every section is optional."""

    router: RouterConfig = RouterConfig()
    models: ModelsConfig = ModelsConfig()
    budgets: BudgetsConfig = BudgetsConfig()
    agents: dict[Route, AgentConfig] = Field(default_factory=dict)
    billing: BillingConfig = BillingConfig()
    escalation: EscalationConfig = EscalationConfig()
    technical: TechnicalConfig = TechnicalConfig()
    approvals: ApprovalsConfig = ApprovalsConfig()
    digests: list[DigestConfig] = Field(default_factory=list)
