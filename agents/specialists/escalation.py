"""The escalation specialist: gets a person involved, with the thread summarised for them.

Paging on-call and opening an incident change something outside the thread, so both tools are
always high risk: the runner turns them into approval requests and they run only after a human
clicks Approve. Each effect is exactly once by the key it runs under (the approval's id): a page
carries it as PagerDuty's dedup key or as the Slack pager's message tag, and incidents and
tickets are unique by it, so a re-run after a crash finds the first instead of repeating it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from agents.agent import IN_THEIR_LANGUAGE, Agent, SuggestedPrompt
from agents.casework import Incidents, ThreadLog, ThreadMessage, Tickets
from agents.connectors import ConnectorError
from agents.connectors.paging import Pager, Severity
from agents.errors import ToolError
from agents.offline import OfflineRequest, OfflineStep, ToolResult
from agents.specialists.extract import (
    APPROVAL_OUTCOMES,
    ERROR_STATUSES,
    SeverityLevel,
    clip,
    detail_of,
    services,
    severity,
    title_of,
    wants_page,
)
from agents.tool import Risk, Tool, ToolContext, ToolOutput

INSTRUCTIONS = """You are Switchboard's escalation specialist. You get a human involved when a
conversation needs one: an outage or incident (SEV1/SEV2), a security problem, a request to page
on-call, or a customer or colleague who asks for a person or a manager.

- Start with summarize_thread so whoever picks this up does not have to read everything.
- For an outage, SEV1/SEV2 or a security problem, or when asked to page on-call: call
  page_oncall with a one-line summary and the severity, and open_incident. Both need a human's
  approval, which the system asks for: say the page is waiting for approval, never that it was
  sent, until a tool result says it was executed.
- For a request for a person, or a SEV3: open_handover_ticket and say a person will pick it up.
- After an approval result arrives, report it exactly: executed, rejected, expired or failed.
- Severity: SEV1 core service down for most customers, data loss or breach; SEV2 major feature
  broken for many, or security; SEV3 limited impact.
- Reply in Slack mrkdwn: short, concrete, bullets with •."""

SUGGESTION = SuggestedPrompt(
    "Talk to a person", "I want to talk to a human about a problem with my account."
)
DESCRIPTION = (
    "Escalation: outages and incidents, paging on-call, security problems, and requests for a "
    "human or a manager; summarises the thread for whoever picks it up."
)

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
                "summarize_thread",
                "Summarise this Slack thread: who asked what, what was tried, who answered.",
                SummarizeArgs,
                self.summarize_thread,
            ),
            Tool(
                "page_oncall",
                "Page the on-call engineer. Always needs a human's approval first.",
                PageArgs,
                self.page_oncall,
                risk=Risk.HIGH,
                summarize=self.page_summary,
                # Keyed by the approval id: PagerDuty's dedup_key, the Slack pager's message tag.
                effect="page",
                idempotent=True,
            ),
            Tool(
                "open_incident",
                "Open an incident record for this thread. Always needs a human's approval first.",
                IncidentArgs,
                self.open_incident,
                risk=Risk.HIGH,
                summarize=lambda a: f"Open a {a.severity} incident: {a.title}",
                # Unique by the approval id: a re-run with the same key finds the first.
                effect="incident",
                idempotent=True,
            ),
            Tool(
                "open_handover_ticket",
                "Open a ticket so a person (support lead, manager) picks this thread up.",
                HandoverArgs,
                self.open_handover_ticket,
                effect="ticket",
            ),
        )


def build_escalation(
    tickets: Tickets,
    incidents: Incidents,
    threads: ThreadLog,
    pager: Pager,
    *,
    oncall_channel: str = "#oncall",
    oncall_usergroup: str | None = None,
    model: str | None = None,
) -> Agent:
    tools = EscalationTools(tickets, incidents, threads, pager, oncall_channel, oncall_usergroup)
    return Agent(
        name="escalation",
        description=DESCRIPTION,
        instructions=f"{INSTRUCTIONS}\n{IN_THEIR_LANGUAGE}",
        tools=tools.tools(),
        policy=policy,
        model=model,
        suggestion=SUGGESTION,
    )


_ACTIONS = ("page_oncall", "open_incident", "open_handover_ticket")


def policy(request: OfflineRequest) -> OfflineStep:
    """Offline escalation: summarise, then page and open an incident, or hand to a person."""
    text = request.user_text
    decided = [r for r in request.results if r.output.get("status") in APPROVAL_OUTCOMES]
    if decided:
        return OfflineStep(text="\n".join(_outcome(r) for r in decided))
    summary = request.result("summarize_thread")
    if summary is None:
        return OfflineStep(tool_calls=[("summarize_thread", {})])
    actions = [r for r in request.results if r.name in _ACTIONS]
    if actions:
        return OfflineStep(text=_report(summary.output, actions))
    level = severity(text)
    if level in ("SEV1", "SEV2") or wants_page(text):
        level = level or "SEV2"
        named = services(text)
        page = {
            "summary": clip(text, 200),
            "severity": level,
            "service": named[0] if named else None,
            "context": str(summary.output.get("summary") or "")[:2000],
        }
        incident = {"title": title_of(text, 120), "severity": level}
        return OfflineStep(
            text=f"{level} reported; on-call should know.",
            tool_calls=[("page_oncall", page), ("open_incident", incident)],
        )
    priority = "normal" if level == "SEV3" else "high"
    handover = {"title": f"Handover: {title_of(text, 100)}", "priority": priority}
    return OfflineStep(tool_calls=[("open_handover_ticket", handover)])


def _report(summary: dict[str, Any], actions: list[ToolResult]) -> str:
    lines: list[str] = []
    for action in actions:
        out = action.output
        if out.get("status") == "approval_requested":
            continue  # stated by the supervisor from the approval itself
        if out.get("status") in ERROR_STATUSES:
            lines.append(f"⚠️ I couldn't {action.name.replace('_', ' ')}: {out.get('detail')}")
        elif action.name == "open_handover_ticket":
            below = " with the summary below" if summary.get("summary") else ""
            lines.append(
                f"*A person will pick this up.* I opened ticket *{out['ticket']}* "
                f"({out['priority']} priority){below}, so nobody has to ask again."
            )
        else:
            lines.append(_outcome(action))
    text = str(summary.get("summary") or "")
    if text:
        lines += ["*Thread so far:*", text]
    return "\n".join(lines)


def _outcome(result: ToolResult) -> str:
    """What happened to a page or an incident, exactly as the result says."""
    out, args = result.output, result.arguments
    what = "page to on-call" if result.name == "page_oncall" else "incident"
    detail = detail_of(out)
    status = out.get("status")
    if status == "rejected":
        return f"❌ The {what} was *not* made: an approver rejected it{detail}"
    if status == "expired":
        return f"⌛ The approval for the {what} expired, so nothing was done. Ask again if needed."
    if status == "failed":
        fallback = " Call the on-call person directly." if result.name == "page_oncall" else ""
        return f"⚠️ The {what} was approved but *did not go through*{detail}{fallback}"
    if result.name == "page_oncall":
        return (
            f"📟 On-call has been paged at {out.get('severity', args.get('severity'))} through "
            f"{out.get('provider')} ({out.get('detail')}; reference `{out.get('reference')}`)."
        )
    if result.name == "open_incident":
        opened = f"*{out.get('incident')}* at {out.get('severity')}"
        return f"🚨 Incident {opened} is open: {out.get('title')}."
    return f"Done: {result.name}."
