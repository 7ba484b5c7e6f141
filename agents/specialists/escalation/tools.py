"""The escalation specialist's tools: summarise the thread, page on-call, open an
incident or a handover ticket.

Paging and incidents are high risk (they run only after an approval) and idempotent by
the key they run under, so reconciliation after a crash may run them again.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from agents.casework import Incidents, ThreadLog, ThreadMessage, Tickets
from agents.connectors import ConnectorError
from agents.connectors.paging import Pager, Severity
from agents.errors import ToolError
from agents.specialists.extract import (
    SeverityLevel,
    clip,
)
from agents.tool import Risk, Tool, ToolContext, ToolOutput

PAGER_SEVERITY: dict[str, Severity] = {"SEV1": "critical", "SEV2": "error", "SEV3": "warning"}
SEVERITY_FIELD = Field(description="SEV1 (most customers down), SEV2 (major, many), SEV3 (minor).")


class SummarizeArgs(BaseModel):
    max_messages: int = Field(default=12, ge=1, le=50, description="Newest messages to cover.")


class PageArgs(BaseModel):
    summary: str = Field(min_length=5, max_length=500, description="What is broken, one line.")
    severity: SeverityLevel = SEVERITY_FIELD
    service: str | None = Field(default=None, description="The affected service, if known.")
    context: str = Field(default="", max_length=2000, description="The thread summary.")


class IncidentArgs(BaseModel):
    title: str = Field(min_length=5, max_length=200, description="What is broken, short.")
    severity: SeverityLevel = SEVERITY_FIELD


class HandoverArgs(BaseModel):
    title: str = Field(min_length=3, max_length=200, description="What the person should do.")
    priority: Literal["normal", "high", "urgent"] = Field(
        default="high", description="How soon a person should pick it up."
    )


def _quote(message: ThreadMessage) -> str:
    return f"“{clip(message.text, 140)}”"


def summarize_messages(messages: list[ThreadMessage]) -> str:
    """Who asked what, which specialists answered with which tools, in thread order."""
    lines: list[str] = []
    asked = False
    for message in messages:
        if message.role == "user":
            who = f"<@{message.user_id}>" if message.user_id else "Someone"
            lines.append(f"• {who} {'followed up' if asked else 'asked'}: {_quote(message)}")
            asked = True
        elif message.role == "assistant":
            calls = [
                f"{c.get('name')}" + (f" ({c['status']})" if c.get("status") != "ok" else "")
                for c in message.tool_calls or []
            ]
            used = f" (tools: {', '.join(calls)})" if calls else ""
            lines.append(f"• {message.agent or 'Switchboard'} answered{used}: {_quote(message)}")
    return "\n".join(lines)


class EscalationTools:
    def __init__(
        self,
        tickets: Tickets,
        incidents: Incidents,
        threads: ThreadLog,
        pager: Pager,
        oncall_channel: str = "#oncall",
        oncall_usergroup: str | None = None,
    ) -> None:
        self.tickets = tickets
        self.incidents = incidents
        self.threads = threads
        self.pager = pager
        # Plain words, not a <!subteam^...> mention: the approval card must not page anyone.
        group = f" (user group {oncall_usergroup})" if oncall_usergroup else ""
        self.oncall = oncall_channel + group

    async def summarize_thread(self, args: SummarizeArgs, ctx: ToolContext) -> ToolOutput:
        messages = await self.threads.messages(ctx.team_id, ctx.channel, ctx.thread_ts)
        tickets = await self.tickets.for_thread(ctx.channel, ctx.thread_ts)
        incidents = await self.incidents.for_thread(ctx.channel, ctx.thread_ts)
        return {
            "messages": len(messages),
            "summary": summarize_messages(messages[-args.max_messages :]),
            "agents": sorted({m.agent for m in messages if m.role == "assistant" and m.agent}),
            "tickets": [f"#{t.id} ({t.priority}, {t.status})" for t in tickets],
            "incidents": [f"INC-{i.id} ({i.severity}, {i.status})" for i in incidents],
        }

    async def page_oncall(self, args: PageArgs, ctx: ToolContext) -> ToolOutput:
        details = {
            "thread": f"{ctx.channel} {ctx.thread_ts}",
            "requested by": ctx.user_id,
        }
        if args.service:
            details["service"] = args.service
        if args.context:
            details["summary"] = args.context
        try:
            result = await self.pager.page(
                f"{args.severity}: {args.summary}",
                PAGER_SEVERITY[args.severity],
                "switchboard/escalation",
                ctx.idempotency_key,
                details,
            )
        except (ConnectorError, ValueError) as exc:
            raise ToolError(str(exc)) from exc
        return {
            "provider": result.provider,
            "reference": result.reference,
            "detail": result.detail,
            "severity": args.severity,
        }

    async def open_incident(self, args: IncidentArgs, ctx: ToolContext) -> ToolOutput:
        incident = await self.incidents.open(
            channel=ctx.channel,
            thread_ts=ctx.thread_ts,
            title=args.title,
            severity=args.severity,
            idempotency_key=ctx.idempotency_key,
        )
        return {
            "incident": f"INC-{incident.id}",
            "title": incident.title,
            "severity": incident.severity,
        }

    async def open_handover_ticket(self, args: HandoverArgs, ctx: ToolContext) -> ToolOutput:
        ticket = await self.tickets.open(
            channel=ctx.channel,
            thread_ts=ctx.thread_ts,
            title=args.title,
            category="escalation",
            priority=args.priority,
            requester=ctx.user_id or None,
            idempotency_key=ctx.idempotency_key,
        )
        return {"ticket": f"#{ticket.id}", "priority": ticket.priority, "title": ticket.title}

    def page_summary(self, args: PageArgs) -> str:
        service = f" ({args.service})" if args.service else ""
        return f"Page on-call in {self.oncall} at {args.severity}{service}: {args.summary}"

    def tools(self) -> tuple[Tool[Any], ...]:
        return (
            Tool(
                name="summarize_thread",
                description=(
                    "Summarise this Slack thread: who asked what, what was tried, who answered."
                ),
                args=SummarizeArgs,
                run=self.summarize_thread,
            ),
            Tool(
                name="page_oncall",
                description="Page the on-call engineer. Always needs a human's approval first.",
                args=PageArgs,
                run=self.page_oncall,
                risk=Risk.HIGH,
                summarize=self.page_summary,
                effect="page",
                idempotent=True,
            ),
            Tool(
                name="open_incident",
                description=(
                    "Open an incident record for this thread. Always needs a"
                    " human's approval first."
                ),
                args=IncidentArgs,
                run=self.open_incident,
                risk=Risk.HIGH,
                summarize=lambda a: f"Open a {a.severity} incident: {a.title}",
                effect="incident",
                idempotent=True,
            ),
            Tool(
                name="open_handover_ticket",
                description=(
                    "Open a ticket so a person (support lead, manager) picks this thread up."
                ),
                args=HandoverArgs,
                run=self.open_handover_ticket,
                effect="ticket",
            ),
        )
