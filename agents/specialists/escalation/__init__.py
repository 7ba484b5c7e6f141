"""The escalation specialist: gets a person involved, with the thread summarised for them.

Paging on-call and opening an incident change something outside the thread, so both tools are
always high risk: the runner turns them into approval requests and they run only after a human
clicks Approve. Each effect is exactly once by the key it runs under (the approval's id): a page
carries it as PagerDuty's dedup key or as the Slack pager's message tag, and incidents and
tickets are unique by it, so a re-run after a crash finds the first instead of repeating it.
"""

from __future__ import annotations

from agents.agent import IN_THEIR_LANGUAGE, Agent, SuggestedPrompt
from agents.casework import Incidents, ThreadLog, Tickets
from agents.connectors.paging import Pager
from agents.specialists.escalation.policy import policy as offline_policy
from agents.specialists.escalation.tools import EscalationTools

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
        policy=offline_policy,
        model=model,
        suggestion=SUGGESTION,
    )
