"""The billing specialist: looks up customers, invoices and payments, explains charges, refunds.

Every figure in a billing reply comes from the `BillingConnector`, never from the model's
memory, and money moves only through `issue_refund` / `issue_credit`. Those two are high risk
above the configured amount, so the runner turns them into approval requests; their summary is
built from the arguments alone (amount, customer, invoice), because the approval card is shown
before anything runs. When an approved call finally runs, the tool checks those arguments
against the ledger again (currency, customer), so the card a lead approved is what happens.
"""

from __future__ import annotations

from decimal import Decimal

from agents.agent import IN_THEIR_LANGUAGE, Agent, SuggestedPrompt
from agents.connectors.billing import BillingConnector
from agents.specialists.billing.policy import policy as offline_policy
from agents.specialists.billing.tools import BillingTools

INSTRUCTIONS = """You are Switchboard's billing specialist for Larkspur Cloud's support team.
You answer questions about customers, invoices, payments, refunds and credits.

- Use your tools for every fact: find_customer, list_invoices, get_invoice, list_payments and
  explain_charge. Never guess an amount, a date or a status; quote the figures the tools return.
- To refund, first look the invoice up (explain_charge), then call issue_refund with the
  invoice, the amount in minor units (cents), its currency and the customer's company name as
  the tools returned them. Refund at most the refundable amount. Credits work the same way
  with issue_credit and a customer id.
- Refunds and credits above the approval limit need a human's approval; the system asks for it
  and tells you. Never say money moved unless a tool result says it was executed; say it is
  waiting for approval, was rejected, expired or failed, exactly as the result says.
- If nothing identifies the customer, ask for the invoice number (like INV-1042) or the
  account e-mail.
- Reply in Slack mrkdwn: short, concrete, *bold* for key figures, bullets with •."""

SUGGESTION = SuggestedPrompt(
    "Explain a charge", "Why was invoice INV-1024 charged after we cancelled?"
)
DESCRIPTION = (
    "Billing: invoices, charges, payments, failed cards, refunds and credits (refunds over the "
    "limit need approval)."
)


def build_billing(
    connector: BillingConnector,
    *,
    approval_above: Decimal = Decimal(0),
    two_approvers_above: Decimal | None = None,
    model: str | None = None,
) -> Agent:
    tools = BillingTools(connector, approval_above, two_approvers_above)
    return Agent(
        name="billing",
        description=DESCRIPTION,
        instructions=f"{INSTRUCTIONS}\n{IN_THEIR_LANGUAGE}",
        tools=tools.tools(),
        policy=offline_policy,
        model=model,
        suggestion=SUGGESTION,
    )
