"""Build the four specialists from their dependencies and settings, in one place.

The entry point reads settings once and hands them down (see DESIGN.md); this module is where
they meet the agents: `SpecialistDeps` carries the outside services (the store, the billing
ledger, the runbooks, the health checks, the pager) and `SpecialistConfig` the choices (models,
approval thresholds, the on-call channel). Nothing here reads the environment or a file of its
own accord, so tests build the same agents over a temporary ledger and a test server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

from agents.agent import Agent
from agents.connectors.billing import BillingConnector
from agents.connectors.demo_ledger import DemoLedger
from agents.connectors.paging import Pager
from agents.connectors.status import StatusChecker
from agents.specialists.billing import build_billing
from agents.specialists.escalation import build_escalation
from agents.specialists.technical import build_technical
from agents.specialists.triage import build_triage
from storage.knowledge import KnowledgeIndex
from storage.store import Store

SPECIALISTS = ("triage", "billing", "technical", "escalation")
DEMO_KB = Path(str(files("agents.demo").joinpath("kb")))


@dataclass(frozen=True)
class SpecialistDeps:
    """The outside services the specialists' tools use; each behind its narrow interface."""

    store: Store
    billing: BillingConnector
    knowledge: KnowledgeIndex
    status: StatusChecker
    pager: Pager


def _money(value: Decimal | float | int, name: str) -> Decimal:
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    if amount < 0:
        raise ValueError(f"{name} must be 0 or more (an amount in major units, like 100)")
    return amount


@dataclass(frozen=True)
class SpecialistConfig:
    """The choices that shape the specialists.

    ``models`` maps a specialist to a litellm model string; a missing name or None means the
    offline model. Refunds and credits above ``refund_approval_above`` (major units, in the
    money's own currency; 0 means every one) need an approval; above ``two_approvers_above``
    the tool's ``required_approvals`` asks for two approvers.
    """

    models: Mapping[str, str | None] = field(default_factory=dict)
    refund_approval_above: Decimal | float = Decimal(0)
    two_approvers_above: Decimal | float | None = None
    oncall_channel: str = "#oncall"
    oncall_usergroup: str | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.models) - set(SPECIALISTS))
        if unknown:
            raise ValueError(
                f"no specialist named {', '.join(unknown)}; choose from {', '.join(SPECIALISTS)}"
            )
        _money(self.refund_approval_above, "refund_approval_above")  # fail at start-up
        if self.two_approvers_above is not None:
            _money(self.two_approvers_above, "two_approvers_above")

    def model(self, name: str) -> str | None:
        return self.models.get(name) or None

    @property
    def approval_above(self) -> Decimal:
        return _money(self.refund_approval_above, "refund_approval_above")

    @property
    def two_approvers(self) -> Decimal | None:
        limit = self.two_approvers_above
        return None if limit is None else _money(limit, "two_approvers_above")


def build_specialists(deps: SpecialistDeps, config: SpecialistConfig) -> dict[str, Agent]:
    """The four specialists, keyed by name, each with only its own tools."""
    return {
        "triage": build_triage(deps.store, model=config.model("triage")),
        "billing": build_billing(
            deps.billing,
            approval_above=config.approval_above,
            two_approvers_above=config.two_approvers,
            model=config.model("billing"),
        ),
        "technical": build_technical(deps.knowledge, deps.status, model=config.model("technical")),
        "escalation": build_escalation(
            deps.store,
            deps.pager,
            oncall_channel=config.oncall_channel,
            oncall_usergroup=config.oncall_usergroup,
            model=config.model("escalation"),
        ),
    }


def default_deps(
    store: Store,
    *,
    pager: Pager,
    ledger_path: str | Path = ":memory:",
    knowledge_dir: str | Path | None = None,
    health_checks: Mapping[str, str] | None = None,
    health_timeout: float | timedelta = 3.0,
) -> SpecialistDeps:
    """The demo setup: the SQLite demo ledger and the packaged runbooks unless told otherwise.

    Give ``ledger_path`` a file to keep demo refunds across restarts (":memory:" forgets them).
    """
    timeout = (
        health_timeout.total_seconds() if isinstance(health_timeout, timedelta) else health_timeout
    )
    return SpecialistDeps(
        store=store,
        billing=DemoLedger(ledger_path),
        knowledge=KnowledgeIndex(knowledge_dir or DEMO_KB),
        status=StatusChecker(health_checks or {}, timeout),
        pager=pager,
    )
