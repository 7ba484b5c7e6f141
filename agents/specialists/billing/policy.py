"""The offline billing policy: identify the customer or invoice, look it up, explain, act.

A refund or credit is always reported as its result says (asked, done, rejected, expired,
failed), never assumed: the reply is the only thing most people read.
"""

from __future__ import annotations

import re
from typing import Any

from agents.connectors.billing import format_money
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
    wants_credit,
    wants_human,
    wants_page,
    wants_refund,
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
