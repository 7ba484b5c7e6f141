"""The technical specialist: answers from the runbooks and from live health checks.

An answer to "SSO fails with invalid_grant" should be the steps the identity team wrote down,
with where they come from, and whether `auth` is up right now: so the agent searches the
knowledge base, checks the status of the services the message names, and cites the section it
quotes ("(runbook: sso-and-login.md › SSO (SAML and OIDC))"). When no runbook fits, it says
so, flags low confidence (the supervisor may then ask a colleague), and asks for what would
help instead of making something up.
"""

from __future__ import annotations

from agents.agent import IN_THEIR_LANGUAGE, Agent, SuggestedPrompt
from agents.connectors.knowledge import KnowledgeBase
from agents.connectors.status import StatusChecker
from agents.specialists.technical.policy import policy as offline_policy
from agents.specialists.technical.tools import TechnicalTools

INSTRUCTIONS = """You are Switchboard's technical specialist for Larkspur Cloud's support team:
sign-in and SSO, the API and rate limits, webhooks, the dashboard, the mobile app, exports.

- Search the runbooks with search_knowledge before answering, and base the steps on what it
  returns. Cite every section you use like (runbook: sso-and-login.md › SSO (SAML and OIDC)).
- When the message names a service (api, dashboard, auth, webhooks, billing), call
  check_status and say whether it is up, with the detail the check returned.
- Never invent commands, error codes or settings that the runbooks do not contain. If nothing
  fits, call flag_low_confidence and ask for what would help: the exact error, the service,
  when it started, how many users are affected.
- You cannot page anyone or move money; other specialists do that, and risky actions need a
  human's approval, which the system handles. Never claim an action happened unless a tool
  result says so.
- Reply in Slack mrkdwn: short, concrete, steps as bullets with •."""

SUGGESTION = SuggestedPrompt(
    "Fix an SSO login", "Our SSO login fails with invalid_grant since this morning"
)
DESCRIPTION = (
    "Technical: login and SSO, API errors and rate limits, webhooks, dashboard, mobile app, "
    "exports; answers from the runbooks and live health checks."
)


def build_technical(
    knowledge: KnowledgeBase, status: StatusChecker, *, model: str | None = None
) -> Agent:
    return Agent(
        name="technical",
        description=DESCRIPTION,
        instructions=f"{INSTRUCTIONS}\n{IN_THEIR_LANGUAGE}",
        tools=TechnicalTools(knowledge, status).tools(),
        policy=offline_policy,
        model=model,
        suggestion=SUGGESTION,
    )
