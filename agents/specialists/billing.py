"""The billing specialist: looks up customers, invoices and payments, explains charges, refunds.

Every figure in a billing reply comes from the `BillingConnector`, never from the model's
memory, and money moves only through `issue_refund` / `issue_credit`. Those two are high risk
above the configured amount, so the runner turns them into approval requests; their summary is
built from the arguments alone (amount, customer, invoice), because the approval card is shown
before anything runs. When an approved call finally runs, the tool checks those arguments
against the ledger again (currency, customer), so the card a lead approved is what happens.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, Field, model_validator

from agents.agent import IN_THEIR_LANGUAGE, Agent, SuggestedPrompt
from agents.connectors import ConnectorError
from agents.connectors.billing import (
    AmbiguousCustomerError,
    BillingConnector,
    Customer,
    Invoice,
    MoneyMovement,
    Payment,
    format_money,
)
from agents.errors import ToolError
from agents.offline import OfflineRequest, OfflineStep, ToolResult
from agents.specialists.extract import (
    ERROR_STATUSES,
    amounts,
    category,
    category_scores,
    company_candidates,
    customer_ids,
    detail_of,
    emails,
    failed,
    invoice_ids,
    may_hand_off,
    to_major,
    wants_credit,
    wants_human,
    wants_page,
    wants_refund,
)
from agents.tool import Exposure, Risk, Tool, ToolContext, ToolOutput

T = TypeVar("T")

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


class FindCustomerArgs(BaseModel):
    query: str = Field(
        min_length=2,
        description="An account e-mail, a customer id (cus_...), or a company or contact name.",
    )


class CustomerArgs(BaseModel):
    customer_id: str = Field(description="The customer's id (cus_...), as find_customer gave it.")
    limit: int = Field(default=12, ge=1, le=50, description="At most this many, newest first.")


class InvoiceArgs(BaseModel):
    invoice: str = Field(description="The invoice number as printed on it, e.g. INV-1042.")


class PaymentsArgs(BaseModel):
    invoice: str | None = Field(default=None, description="Payments of this invoice.")
    customer_id: str | None = Field(default=None, description="Payments of this customer.")

    @model_validator(mode="after")
    def _one_filter(self) -> PaymentsArgs:
        if not (self.invoice or self.customer_id):
            raise ValueError("give an invoice or a customer_id")
        return self


class _MoneyArgs(BaseModel):
    amount_cents: int = Field(
        gt=0, description="The amount in minor units: $120.00 is 12000 (yen are whole units)."
    )
    currency: str = Field(
        pattern=r"^[A-Za-z]{3}$", description="ISO code of the invoice's currency, e.g. USD."
    )
    customer_name: str = Field(
        min_length=1,
        description="The customer's company as the lookup returned it; shown to the approver.",
    )
    reason: str = Field(min_length=3, max_length=300, description="Why, in a few words.")

    def money(self) -> str:
        return format_money(self.amount_cents, self.currency.upper())


class RefundArgs(_MoneyArgs):
    invoice: str = Field(description="The invoice to refund, e.g. INV-1042.")


class CreditArgs(_MoneyArgs):
    customer_id: str = Field(description="The customer to credit (cus_...).")


def refund_summary(args: RefundArgs) -> str:
    return (
        f"Refund {args.money()} to {args.customer_name} for invoice {args.invoice} ({args.reason})"
    )


def credit_summary(args: CreditArgs) -> str:
    return (
        f"Credit {args.money()} to {args.customer_name}'s account ({args.customer_id}) "
        f"({args.reason})"
    )


async def _guard(action: Awaitable[T]) -> T:
    """Connector errors are written for people; the runner shows them to the model as such."""
    try:
        return await action
    except ConnectorError as exc:
        raise ToolError(str(exc)) from exc


def customer_view(customer: Customer) -> dict[str, Any]:
    return {
        "customer_id": customer.id,
        "company": customer.company,
        "contact": customer.name,
        "email": customer.email,
        "plan": customer.plan,
        "currency": customer.currency,
        "account_status": customer.status,
    }


def invoice_view(invoice: Invoice) -> dict[str, Any]:
    money = invoice.currency
    return {
        "invoice": invoice.number or invoice.id,
        "customer_id": invoice.customer_id,
        "issued": invoice.issued.isoformat(),
        "period": str(invoice.period),
        "invoice_status": invoice.status,
        "currency": money,
        "total": format_money(invoice.amount_cents, money),
        "paid": format_money(invoice.amount_paid_cents, money),
        "refunded": format_money(invoice.amount_refunded_cents, money),
        "refundable": format_money(invoice.refundable_cents, money),
        "total_cents": invoice.amount_cents,
        "refundable_cents": invoice.refundable_cents,
        "lines": [
            {"description": line.description, "amount": format_money(line.amount_cents, money)}
            for line in invoice.lines
        ],
    }


def payment_view(payment: Payment) -> dict[str, Any]:
    return {
        "payment": payment.id,
        "invoice": payment.invoice_id,
        "date": payment.created.date().isoformat(),
        "amount": format_money(payment.amount_cents, payment.currency),
        "outcome": payment.status,
        "method": payment.method,
        "failure": payment.failure_reason,
        "refunded": format_money(payment.amount_refunded_cents, payment.currency),
    }


def movement_view(movement: MoneyMovement) -> dict[str, Any]:
    return {
        "movement": movement.id,
        "kind": movement.kind,
        "amount": format_money(movement.amount_cents, movement.currency),
        "invoice": movement.invoice_id,
        "customer_id": movement.customer_id,
        "movement_status": movement.status,
        "description": movement.describe(),
    }


def duplicates(invoices: list[Invoice]) -> list[tuple[Invoice, Invoice]]:
    """Pairs of paid invoices for the same period and amount: (the first, the duplicate)."""
    paid = sorted((i for i in invoices if i.amount_paid_cents > 0), key=lambda i: (i.issued, i.id))
    return [
        (first, later)
        for n, first in enumerate(paid)
        for later in paid[n + 1 :]
        if (first.period, first.amount_cents, first.currency)
        == (later.period, later.amount_cents, later.currency)
    ]


def explain(
    invoice: Invoice, customer: Customer | None, payments: list[Payment], twin: str | None
) -> tuple[str, str]:
    """The charge in plain words, and the refund reason it suggests (empty if none)."""
    money = invoice.currency
    who = customer.company if customer else invoice.customer_id
    lines = [
        f"*{invoice.number or invoice.id}* bills *{who}* "
        f"*{format_money(invoice.amount_cents, money)}* for {invoice.period} "
        f"(issued {invoice.issued.isoformat()}, status _{invoice.status}_):"
    ]
    lines += [f"• {d}: {format_money(a, money)}" for d, a in invoice.lines]
    for p in payments:
        outcome = f"failed: {p.failure_reason}" if p.failure_reason else p.status
        lines.append(
            f"• Payment {format_money(p.amount_cents, p.currency)} by {p.method} on "
            f"{p.created.date().isoformat()}: {outcome}"
        )
    if not payments:
        lines.append("• No payment attempt is recorded yet.")
    lines.append(
        f"Paid {format_money(invoice.amount_paid_cents, money)}, refunded "
        f"{format_money(invoice.amount_refunded_cents, money)}; "
        f"*{format_money(invoice.refundable_cents, money)}* can still be refunded."
    )
    reason = ""
    if twin:
        reason = f"duplicate charge, same period and amount as {twin}"
        lines.append(f"⚠️ Looks like a *double charge*: {twin} bills the same period and amount.")
    elif customer and customer.status == "canceled" and invoice.amount_paid_cents > 0:
        reason = "charge after cancellation"
        lines.append(
            f"⚠️ The account is *canceled*, yet this invoice was issued {invoice.issued}. If the "
            "cancellation came first, it is a charge after cancellation: refunded in full."
        )
    return "\n".join(lines), reason


class BillingTools:
    """The billing tools over one connector, with the approval rules for moving money."""

    def __init__(
        self,
        connector: BillingConnector,
        approval_above: Decimal = Decimal(0),
        two_approvers_above: Decimal | None = None,
    ) -> None:
        self.connector = connector
        self.approval_above = approval_above
        self.two_approvers_above = two_approvers_above

    def risk(self, args: _MoneyArgs) -> Risk:
        """Above the limit (in major units of the money's own currency) a human must approve."""
        major = to_major(args.amount_cents, args.currency)
        return Risk.HIGH if major > self.approval_above else Risk.LOW

    async def exposure(self, args: RefundArgs | CreditArgs) -> Exposure:
        """How much money the call moves and whose: limits apply to the totals of these.

        A refund's account is the invoice's customer, looked up here, so refunds of several
        invoices of one customer add up; an invoice the ledger cannot find counts on its own.
        """
        if isinstance(args, CreditArgs):
            account = f"customer:{args.customer_id.strip()}"
        else:
            number = args.invoice.strip()
            try:
                invoice = await self.connector.invoice(number)
            except ConnectorError:
                invoice = None
            account = f"customer:{invoice.customer_id}" if invoice else f"invoice:{number.upper()}"
        currency = args.currency.upper()
        return Exposure(
            major=to_major(args.amount_cents, currency),
            minor=args.amount_cents,
            currency=currency,
            account=account,
            limit=self.approval_above,
        )

    def required_approvals(self, args: _MoneyArgs) -> int:
        limit = self.two_approvers_above
        major = to_major(args.amount_cents, args.currency)
        return 2 if limit is not None and major > limit else 1

    async def _invoice(self, number: str) -> Invoice:
        invoice = await _guard(self.connector.invoice(number.strip()))
        if invoice is None:
            raise ToolError(f"No invoice {number!r} in the ledger; numbers look like INV-1042.")
        return invoice

    async def _customer(self, customer_id: str) -> Customer:
        customer = await _guard(self.connector.customer(customer_id))
        if customer is None:
            raise ToolError(f"No customer {customer_id!r} in the ledger.")
        return customer

    async def find_customer(self, args: FindCustomerArgs, ctx: ToolContext) -> ToolOutput:
        try:
            customer = await self.connector.find_customer(args.query)
        except AmbiguousCustomerError as exc:
            candidates = [customer_view(c) for c in exc.candidates]
            return {"found": False, "query": args.query, "candidates": candidates}
        except ConnectorError as exc:
            raise ToolError(str(exc)) from exc
        if customer is None:
            return {"found": False, "query": args.query, "candidates": []}
        return {"found": True, **customer_view(customer)}

    async def list_invoices(self, args: CustomerArgs, ctx: ToolContext) -> ToolOutput:
        invoices = await _guard(self.connector.invoices(args.customer_id))
        return {
            "customer_id": args.customer_id,
            "invoices": [invoice_view(i) for i in invoices[: args.limit]],
            "possible_duplicates": [
                [a.number or a.id, b.number or b.id] for a, b in duplicates(invoices)
            ],
        }

    async def get_invoice(self, args: InvoiceArgs, ctx: ToolContext) -> ToolOutput:
        return invoice_view(await self._invoice(args.invoice))

    async def list_payments(self, args: PaymentsArgs, ctx: ToolContext) -> ToolOutput:
        invoice_id = (await self._invoice(args.invoice)).id if args.invoice else None
        payments = await _guard(
            self.connector.payments(invoice_id=invoice_id, customer_id=args.customer_id)
        )
        return {"payments": [payment_view(p) for p in payments]}

    async def explain_charge(self, args: InvoiceArgs, ctx: ToolContext) -> ToolOutput:
        invoice = await self._invoice(args.invoice)
        customer = await _guard(self.connector.customer(invoice.customer_id))
        payments = await _guard(self.connector.payments(invoice_id=invoice.id))
        siblings = await _guard(self.connector.invoices(invoice.customer_id))
        twin = next((a for a, b in duplicates(siblings) if b.id == invoice.id), None)
        text, reason = explain(
            invoice, customer, payments, twin.number or twin.id if twin else None
        )
        return {
            **invoice_view(invoice),
            "customer": customer_view(customer) if customer else None,
            "payments": [payment_view(p) for p in payments],
            "explanation": text,
            "suggested_refund_reason": reason,
        }

    async def issue_refund(self, args: RefundArgs, ctx: ToolContext) -> ToolOutput:
        invoice = await self._invoice(args.invoice)
        customer = await self._customer(invoice.customer_id)
        _check_matches(args, invoice.currency, customer, f"invoice {args.invoice}")
        movement = await _guard(
            self.connector.refund(invoice.id, args.amount_cents, args.reason, ctx.idempotency_key)
        )
        return {**movement_view(movement), "customer": customer.company}

    async def issue_credit(self, args: CreditArgs, ctx: ToolContext) -> ToolOutput:
        customer = await self._customer(args.customer_id)
        _check_matches(args, customer.currency, customer, f"account {args.customer_id}")
        movement = await _guard(
            self.connector.credit(customer.id, args.amount_cents, args.reason, ctx.idempotency_key)
        )
        return {**movement_view(movement), "customer": customer.company}

    def tools(self) -> tuple[Tool[Any], ...]:
        reads: list[tuple[str, str, type[BaseModel]]] = [
            (
                "find_customer",
                "Find a customer by e-mail, cus_ id or company name.",
                FindCustomerArgs,
            ),
            (
                "list_invoices",
                "A customer's invoices, newest first, with duplicates.",
                CustomerArgs,
            ),
            ("get_invoice", "One invoice: lines, totals, status, refundable amount.", InvoiceArgs),
            (
                "list_payments",
                "Payment attempts of an invoice or customer, failures.",
                PaymentsArgs,
            ),
            (
                "explain_charge",
                "Explain an invoice in plain words: lines, payments, failures, refunds, and "
                "whether it looks like a double charge or a charge after cancellation.",
                InvoiceArgs,
            ),
        ]
        needs = " Above the approval limit a human must approve first."
        return (
            *(Tool(name, text, args, getattr(self, name)) for name, text, args in reads),
            Tool(
                "issue_refund",
                "Refund part or all of a paid invoice to the original payment method." + needs,
                RefundArgs,
                self.issue_refund,
                risk=self.risk,
                summarize=refund_summary,
                exposure=self.exposure,
                effect="money",
                # Keyed by the approval id in the ledger: re-running one after a crash finds the
                # first instead of paying twice, so reconciliation may run it again.
                idempotent=True,
                required_approvals=self.required_approvals,
            ),
            Tool(
                "issue_credit",
                "Credit a customer's account, used by their next invoices." + needs,
                CreditArgs,
                self.issue_credit,
                risk=self.risk,
                summarize=credit_summary,
                exposure=self.exposure,
                effect="money",
                # Keyed by the approval id in the ledger: re-running one after a crash finds the
                # first instead of paying twice, so reconciliation may run it again.
                idempotent=True,
                required_approvals=self.required_approvals,
            ),
        )


def _check_matches(args: _MoneyArgs, currency: str, customer: Customer, what: str) -> None:
    """Refuse to move money if the approved card described another currency or customer."""
    if args.currency.upper() != currency.upper():
        raise ToolError(f"{what} is in {currency}, not {args.currency}; nothing was moved.")
    named = args.customer_name.casefold().strip()
    known = {customer.company.casefold(), customer.name.casefold()}
    if not any(named in k or k in named for k in known):
        raise ToolError(
            f"{what} belongs to {customer.company}, not {args.customer_name}; nothing was moved."
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
        policy=policy,
        model=model,
        suggestion=SUGGESTION,
    )


ASK_FOR_ID = (
    "I can look that up. Which *invoice number* (like INV-1042) or *account e-mail* is it about?"
)
_MONEY_TOOLS = ("issue_refund", "issue_credit")
_SUGGESTED = re.compile(r"\*refund (INV-\d+)\*")
_PAYMENT_WORDS = ("payment", "declin", "card", "fail", "dunning", "retry")


def _call(name: str, text: str | None = None, **arguments: Any) -> OfflineStep:
    return OfflineStep(text=text, tool_calls=[(name, arguments)])


def policy(request: OfflineRequest) -> OfflineStep:
    """Offline billing: identify the customer or invoice, look it up, explain, then act.

    One step per call: each branch looks at the tool results so far and either asks for the
    next lookup or writes the reply from them. A refund or credit result (from this turn or
    from an approval the agent is resumed with) is always reported as it is, never assumed.
    """
    text = request.user_text
    moved = [r for r in request.results if r.name in _MONEY_TOOLS]
    if len(moved) > 1:
        return OfflineStep(text=_money_replies(moved))
    if moved:
        only = moved[0]
        return OfflineStep(text=_money_reply(request, only.name, only.arguments, only.output))
    charge = request.result("explain_charge")
    if charge is not None:
        return _after_charge(charge.arguments, charge.output, text)
    found = request.result("find_customer")
    if found is not None:
        return _after_customer(request, found.arguments, found.output)
    target = _elsewhere(text)
    if target and may_hand_off(request):
        return _call("handoff", to=target, reason=f"Not a billing question: {target} fits better.")
    invoice = next(iter(invoice_ids(text)), None) or _remembered_invoice(request)
    if invoice:
        return _call("explain_charge", invoice=invoice)
    said = [str(m.get("content") or "") for m in request.history if m.get("role") == "user"]
    for source in [text, *reversed(said)]:
        query = next(iter(customer_ids(source) + emails(source) + company_candidates(source)), None)
        if query:
            return _call("find_customer", query=query)
    return OfflineStep(text=ASK_FOR_ID)


def _remembered_invoice(request: OfflineRequest) -> str | None:
    """The invoice an earlier turn was about: one the user named, or one we suggested refunding.

    An earlier reply may list many invoices, so from our own messages only the one we proposed
    ("say *refund INV-1018*") or the one an explanation was about (it starts with it) counts.
    """
    for message in reversed(request.history):
        content = str(message.get("content") or "")
        if message.get("role") == "user":
            named = invoice_ids(content)
        else:
            named = invoice_ids(" ".join(_SUGGESTED.findall(content)) or content[:12])
        if named:
            return named[0]
    return None


def _elsewhere(text: str) -> str | None:
    """Another specialist's message, conservatively: only with no billing word at all."""
    if category_scores(text)["billing"] or invoice_ids(text):
        return None
    if wants_page(text) or wants_human(text) or category(text) == "incident":
        return "escalation"
    return "technical" if category_scores(text)["technical"] else None


def _after_charge(arguments: dict[str, Any], out: dict[str, Any], text: str) -> OfflineStep:
    if failed(out):
        return OfflineStep(
            text=f"I couldn't look up {arguments.get('invoice')}: {out.get('detail')}"
        )
    if wants_refund(text):
        return _refund_call(out, text)
    if wants_credit(text) and out.get("customer"):
        return _credit_call(out["customer"], text)
    hint = ""
    if out.get("suggested_refund_reason") and out.get("refundable_cents"):
        hint = (
            f"\nTo give the money back, say *refund {out['invoice']}*; refunds over the limit "
            "wait for a billing lead's approval."
        )
    return OfflineStep(text=str(out["explanation"]) + hint)


def _refund_call(out: dict[str, Any], text: str) -> OfflineStep:
    number, currency, refundable = out["invoice"], out["currency"], int(out["refundable_cents"])
    customer = (out.get("customer") or {}).get("company") or out["customer_id"]
    if refundable <= 0:
        return OfflineStep(
            text=f"{out['explanation']}\n\nThere is nothing left to refund on *{number}*: "
            f"paid {out['paid']}, refunded {out['refunded']} already."
        )
    amount = refundable
    asked = amounts(text)
    if asked:
        if asked[0].currency != currency:
            return OfflineStep(
                text=f"*{number}* is billed in {currency}. How much in {currency} should I refund? "
                f"Up to *{out['refundable']}* can go back."
            )
        amount = asked[0].minor
        if amount > refundable:
            return OfflineStep(
                text=f"Only *{out['refundable']}* of *{number}* can still be refunded, "
                f"less than the {format_money(amount, currency)} asked for."
            )
    reason = out.get("suggested_refund_reason") or "requested by the customer"
    args = {
        "invoice": number,
        "amount_cents": amount,
        "currency": currency,
        "customer_name": customer,
        "reason": reason,
    }
    return _call("issue_refund", f"{customer} asked for a refund of {number}: {reason}.", **args)


def _credit_call(customer: dict[str, Any], text: str) -> OfflineStep:
    company, currency = customer["company"], customer["currency"]
    asked = amounts(text)
    if not asked or asked[0].currency != currency:
        return OfflineStep(
            text=f"How much should I credit to *{company}*? Their account is billed in "
            f"{currency}; say for example *credit {format_money(5000, currency)}*."
        )
    sla = any(w in text.lower() for w in ("sla", "uptime", "outage", "incident"))
    args = {
        "customer_id": customer["customer_id"],
        "customer_name": company,
        "amount_cents": asked[0].minor,
        "currency": currency,
        "reason": "SLA credit" if sla else "goodwill credit",
    }
    return _call("issue_credit", f"Credit requested for {company}.", **args)


def _after_customer(
    request: OfflineRequest, arguments: dict[str, Any], out: dict[str, Any]
) -> OfflineStep:
    query = arguments.get("query", "")
    if failed(out):
        return OfflineStep(text=f"I couldn't search the ledger: {out.get('detail')}")
    if not out.get("found"):
        candidates = out.get("candidates") or []
        if not candidates:
            return OfflineStep(text=f"I found no customer matching *{query}*. " + ASK_FOR_ID)
        listed = "\n".join(
            f"• {c['company']} ({c['email']}, {c['customer_id']})" for c in candidates
        )
        return OfflineStep(text=f"Several customers match *{query}*:\n{listed}\nWhich one is it?")
    text = request.user_text
    if wants_credit(text) and not wants_refund(text):
        return _credit_call(out, text)
    listing = request.result("list_invoices")
    if listing is None:
        calls: list[tuple[str, dict[str, Any]]] = [
            ("list_invoices", {"customer_id": out["customer_id"], "limit": 6})
        ]
        if any(word in text.lower() for word in _PAYMENT_WORDS):
            calls.append(("list_payments", {"customer_id": out["customer_id"]}))
        return OfflineStep(tool_calls=calls)
    payments = request.result("list_payments")
    return OfflineStep(
        text=_account_text(out, listing.output, payments.output if payments else None, text)
    )


def _account_text(
    customer: dict[str, Any], listing: dict[str, Any], payments: dict[str, Any] | None, text: str
) -> str:
    if failed(listing):
        return f"I found {customer['company']} but couldn't list invoices: {listing.get('detail')}"
    lines = [
        f"*{customer['company']}* ({customer['contact']}, {customer['email']}): "
        f"{customer['plan']} plan, account {customer['account_status']}."
    ]
    invoices = listing.get("invoices") or []
    lines += ["Recent invoices:"] if invoices else ["No invoices yet."]
    lines += [
        f"• {i['invoice']} · issued {i['issued']} · {i['total']} · {i['invoice_status']}"
        for i in invoices
    ]
    for first, later in listing.get("possible_duplicates") or []:
        lines.append(
            f"⚠️ {first} and {later} bill the same period and amount: a likely double charge."
        )
    failures = [p for p in (payments or {}).get("payments") or [] if p.get("failure")]
    if failures:
        lines.append("Failed payments:")
        lines += [f"• {p['date']} {p['amount']} by {p['method']}: {p['failure']}" for p in failures]
    if wants_refund(text):
        example = next(iter(listing.get("possible_duplicates") or []), [None, None])[1]
        lines.append(
            f"Which invoice should I refund? Say for example *refund {example or 'INV-1042'}*."
        )
    return "\n".join(lines)


def _money_replies(results: list[ToolResult]) -> str:
    """Several refunds or credits in one turn: how many ended which way, and their money."""
    by_status: dict[str, list[ToolResult]] = {}
    for result in results:
        by_status.setdefault(str(result.output.get("status") or "executed"), []).append(result)
    lines = []
    for status, group in by_status.items():
        money: dict[str, int] = {}
        for result in group:
            args = result.arguments
            currency = str(args.get("currency") or "").upper()
            money[currency] = money.get(currency, 0) + int(args.get("amount_cents") or 0)
        total = " + ".join(format_money(v, k) for k, v in sorted(money.items()) if k)
        what = f"{len(group)} refunds or credits ({total})"
        if status == "approval_requested":
            lines.append(f"{what}: nothing has been moved yet.")
        elif status == "executed":
            lines.append(f"✅ {what}: done.")
        else:
            lines.append(f"{what}: {status.replace('_', ' ')}; nothing moved for these.")
    return "\n".join(lines)


def _money_reply(
    request: OfflineRequest, tool: str, args: dict[str, Any], out: dict[str, Any]
) -> str:
    """Say exactly what happened to a refund or credit: asked, done, refused, expired, failed."""
    kind = "refund" if tool == "issue_refund" else "credit"
    done = "refunded" if kind == "refund" else "credited"
    try:
        money = format_money(int(args["amount_cents"]), str(args["currency"]).upper())
    except (KeyError, TypeError, ValueError):
        money = "the amount"
    target = args.get("customer_name") or args.get("customer_id") or "the customer"
    where = f" for invoice {args['invoice']}" if args.get("invoice") else ""
    status = out.get("status")
    detail = detail_of(out)
    if status == "approval_requested":
        # What waits for whom is stated by the supervisor from the approval itself.
        charge = request.result("explain_charge")
        before = (
            f"{charge.output['explanation']}\n\n" if charge and not failed(charge.output) else ""
        )
        return f"{before}Nothing has been {done} yet."
    if status in ERROR_STATUSES:
        return (
            f"I couldn't make the {kind} of {money} to {target}{where}{detail} Nothing was {done}."
        )
    if status == "rejected":
        return f"❌ The {kind} of {money} to {target}{where} was *rejected*{detail} Nothing moved."
    if status == "expired":
        return (
            f"⌛ The approval for the {kind} of {money} to {target}{where} *expired* before anyone "
            f"decided, so nothing was {done}. Ask again if it is still needed."
        )
    if status == "failed":
        return f"⚠️ The {kind} of {money} to {target}{where} was approved but *failed*{detail}"
    if status not in (None, "executed"):
        return f"The {kind} of {money} to {target}{where} ended as _{status}_{detail}"
    settled = f"*{out.get('amount', money)}* to {out.get('customer', target)}{where}"
    back = (
        " It goes back to the original payment method within 5–10 business days."
        if kind == "refund"
        else " It will be used by their next invoices."
    )
    return f"✅ Done: {done} {settled} ({out.get('movement')}, {out.get('movement_status')}).{back}"
