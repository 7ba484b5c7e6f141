"""Build the four specialists from their dependencies and settings, in one place.

The entry point reads settings once and hands them down (see DESIGN.md); this module is where
they meet the agents: `SpecialistDeps` carries the outside services, each behind the narrow
protocol the agents define (tickets, incidents and the thread's messages in `agents.casework`;
the billing ledger, the runbooks, the health checks and the pager in `agents.connectors`), and
`SpecialistConfig` the choices (models, approval thresholds, the on-call channel). `bot.doors`
builds the deps over the database; nothing here reads the environment or a file of its own
accord, so tests build the same agents over a temporary ledger and a test server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from agents.agent import Agent
from agents.casework import Incidents, ThreadLog, Tickets
from agents.connectors.billing import BillingConnector
from agents.connectors.knowledge import KnowledgeBase
from agents.connectors.paging import Pager
from agents.connectors.status import StatusChecker
from agents.routes import ROUTES
from agents.specialists.billing import build_billing
from agents.specialists.escalation import build_escalation
from agents.specialists.technical import build_technical
from agents.specialists.triage import build_triage

SPECIALISTS = ROUTES  # a specialist for every route


@dataclass(frozen=True, kw_only=True)
class SpecialistDeps:
    """The outside services the specialists' tools use; each behind its narrow interface."""

    tickets: Tickets
    incidents: Incidents
    threads: ThreadLog
    billing: BillingConnector
    knowledge: KnowledgeBase
    status: StatusChecker
    pager: Pager


def _money(value: Decimal | float | int, name: str) -> Decimal:
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    if amount < 0:
        raise ValueError(f"{name} must be 0 or more (an amount in major units, like 100)")
    return amount


@dataclass(frozen=True, kw_only=True)
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
        "triage": build_triage(deps.tickets, model=config.model("triage")),
        "billing": build_billing(
            deps.billing,
            approval_above=config.approval_above,
            two_approvers_above=config.two_approvers,
            model=config.model("billing"),
        ),
        "technical": build_technical(deps.knowledge, deps.status, model=config.model("technical")),
        "escalation": build_escalation(
            deps.tickets,
            deps.incidents,
            deps.threads,
            deps.pager,
            oncall_channel=config.oncall_channel,
            oncall_usergroup=config.oncall_usergroup,
            model=config.model("escalation"),
        ),
    }
