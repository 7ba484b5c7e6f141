"""The billing specialist's tools: read the ledger, explain a charge, refund and credit.

The approval rules for moving money live here with the tools that move it: the risk
above the limit, the exposure totals are summed from, and the second approver above the
second limit.
"""

from __future__ import annotations

from collections.abc import Awaitable
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, Field, model_validator

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
from agents.specialists.extract import to_major
from agents.tool import Exposure, Risk, Tool, ToolContext, ToolOutput

T = TypeVar("T")


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
            *(
                Tool(name=name, description=text, args=args, run=getattr(self, name))
                for name, text, args in reads
            ),
            Tool(
                name="issue_refund",
                description="Refund part or all of a paid invoice to the original payment method."
                + needs,
                args=RefundArgs,
                run=self.issue_refund,
                risk=self.risk,
                summarize=refund_summary,
                exposure=self.exposure,
                effect="money",
                idempotent=True,
                required_approvals=self.required_approvals,
            ),
            Tool(
                name="issue_credit",
                description="Credit a customer's account, used by their next invoices." + needs,
                args=CreditArgs,
                run=self.issue_credit,
                risk=self.risk,
                summarize=credit_summary,
                exposure=self.exposure,
                effect="money",
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
