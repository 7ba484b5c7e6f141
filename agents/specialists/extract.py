"""What the offline policies read out of free text: ids, money, services, severity, intent.

The offline model is not a language model, so each specialist's policy looks for the things
support messages name in predictable shapes: invoice numbers (``INV-1042``), amounts (``$120``,
``120.50 USD``, ``€50``), e-mail addresses, customer ids (``cus_...``), service names, and
severity words. Keeping every pattern here means the four policies agree on what a message
says, and a pattern fixed once is fixed for all of them.

The last section holds the few helpers the policies share about the conversation itself
(was this handed over already? did a tool fail?), because they are read the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from agents.offline import OfflineRequest

Category = Literal["billing", "technical", "incident", "account", "general"]
Priority = Literal["low", "normal", "high", "urgent"]
SeverityLevel = Literal["SEV1", "SEV2", "SEV3"]

# Stripe's zero-decimal currencies: their minor unit is the whole unit (¥1 is 1, not 100).
# The billing connector keeps the same list privately; see the report on connectors.
ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "HUF", "TWD", "UGX", "XAF", "XOF"})

_FLAGS = re.IGNORECASE
_INVOICE = re.compile(
    r"\bINV[-_ #]?(\d{3,7})\b|\binvoice\s*(?:no\.?|number|#)?\s*(\d{3,7})\b", _FLAGS
)
_STRIPE_INVOICE = re.compile(r"\bin_[A-Za-z0-9]{6,}\b")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_CUSTOMER_ID = re.compile(r"\bcus_[A-Za-z0-9]{4,}\b")
_NUMBER = r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)"
_SYMBOLS = {"$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "ca$": "CAD", "a$": "AUD"}
_WORDS = {"dollar": "USD", "dollars": "USD", "bucks": "USD", "euro": "EUR", "euros": "EUR"}
_CODES = "USD|EUR|GBP|CAD|AUD|JPY|CHF"
_AMOUNT_PATTERNS = (
    re.compile(r"(?P<sym>US\$|CA\$|A\$|\$|€|£|¥)\s?" + _NUMBER, _FLAGS),
    re.compile(_NUMBER + r"\s?(?P<code>" + _CODES + r"|dollars?|bucks|euros?)\b", _FLAGS),
    re.compile(r"\b(?P<code>" + _CODES + r")\s?" + _NUMBER, _FLAGS),
)

_SERVICES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("api", re.compile(r"\bapi\b|\brest endpoint", _FLAGS)),
    ("dashboard", re.compile(r"\bdashboard\b|\bweb ?app\b|\breports?\b", _FLAGS)),
    (
        "auth",
        re.compile(
            r"\bauth\b|\blog ?in\b|\bsign[- ]?(?:in|on)\b|\bsso\b|\bsaml\b|\boidc\b|\b2fa\b"
            r"|\bpassword reset\b",
            _FLAGS,
        ),
    ),
    ("webhooks", re.compile(r"\bwebhooks?\b", _FLAGS)),
    ("billing", re.compile(r"\bbilling (?:service|system|api|page)\b", _FLAGS)),
)

_LEVELS: dict[str, SeverityLevel] = {"1": "SEV1", "2": "SEV2", "3": "SEV3"}
_SEV = re.compile(r"\bsev\s*-?\s*([1-3])\b", _FLAGS)
_SEV2_FIRST = re.compile(
    r"\bpartial(?:ly)? (?:outage|down)\b|\bdegraded\b|\bdelayed\b|\bslow for (?:many|several|all)",
    _FLAGS,
)
_SEV1 = re.compile(
    r"\boutage\b|\b(?:is|are|went|goes|completely) down\b|\bdown for\b|\bcritical\b|\bbreach"
    r"|\bdata loss\b|\b(?:nobody|no one|noone) can\b|\beveryone\b|\ball (?:customers|users)\b",
    _FLAGS,
)
_SEV2 = re.compile(
    r"\bsecurity\b|\burgent\b|\basap\b|\btakeover\b|\bleaked\b|\bcompromised\b"
    r"|\b(?:several|many|multiple) (?:customers|orgs|organisations|organizations|users)\b",
    _FLAGS,
)

_KEYWORDS: dict[Category, re.Pattern[str]] = {
    "billing": re.compile(
        r"\brefund|\binvoice|\bcharg(?:e|ed|es|ing)\b|\bbill(?:ed|ing)?\b|\bpayment|\bpaid\b"
        r"|\bcredit(?! card)\b|\bsubscription|\breceipt|\bvat\b|\bdunning|\bdeclined\b"
        r"|\bprice|\bpricing\b|\bplan\b|\bcard\b|\bINV-?\d",
        _FLAGS,
    ),
    "technical": re.compile(
        r"\berror|\blog ?in\b|\bsign[- ]?in\b|\bsso\b|\bsaml\b|\boidc\b|\bapi\b|\bwebhook"
        r"|\bdashboard|\bslow\b|\bcrash|\bbug\b|\bexport|\bpassword|\b2fa\b|\b[45]\d\d\b"
        r"|\btime(?:s|d)? ?out|\bbroken\b|\bnot working\b|\bfail|\blatency|\brate limit"
        r"|\binvalid_\w+|\bapp\b",
        _FLAGS,
    ),
    "incident": re.compile(
        r"\boutage\b|\bsev\s*-?\s*[1-3]\b|\bincident\b|\bon-?call\b|\bdown\b|\bsecurity\b"
        r"|\bbreach|\beveryone\b|\ball customers\b|\bdata loss\b",
        _FLAGS,
    ),
    "account": re.compile(
        r"\baccount\b|\binvite|\bseat|\bpermission|\brole\b|\badmin\b|\bchange (?:my|the) e-?mail",
        _FLAGS,
    ),
}

_REFUND = re.compile(r"\brefund", _FLAGS)
_CREDIT = re.compile(r"\bcredit(?! card)(?:s|ed| note)?\b", _FLAGS)
_HUMAN = re.compile(
    r"\b(?:a |real |actual )?(?:human|person|manager|supervisor)\b"
    r"|\btalk to (?:someone|somebody)\b",
    _FLAGS,
)
_PAGE = re.compile(
    r"\b(?:page|paging)\s+(?:the\s+)?(?:on[- ]?call|[\w-]*oncall|someone|somebody|them)\b"
    r"|\b(?:wake|call)\s+(?:up\s+)?(?:the\s+)?on[- ]?call\b|\bescalate\b",
    _FLAGS,
)
_TRIED = re.compile(
    r"\btried\b|\brestart|\bclear(?:ed)?\b|\breinstall|\balready\b|\battempt|\bre-?ran\b",
    _FLAGS,
)
_WHEN = re.compile(
    r"\bsince\b|\byesterday\b|\btoday\b|\bthis (?:morning|afternoon|evening|week)\b|\bago\b"
    r"|\blast (?:night|week|month)\b|\b\d{1,2}(?::\d\d)?\s?(?:am|pm)\b|\butc\b|\bstarted\b"
    r"|\bbegan\b|\bon (?:mon|tue|wed|thu|fri|sat|sun)",
    _FLAGS,
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'_-]{2,}")


def _wordset(words: str) -> frozenset[str]:
    """A set of words written as one string: easier to read and edit than a list literal."""
    return frozenset(words.split())


_STOP = _wordset(
    "the and for you your our are was were has have had can cannot not but with this that "
    "what when where why how who any please thanks thank help need needs hello there just "
    "still really some get got its it's from into out about would could should does did "
    "doesn't don't isn't won't can't i'm we're they're them they"
)


@dataclass(frozen=True)
class Money:
    """An amount someone typed, in minor units; ``currency`` is None when they gave none."""

    minor: int
    currency: str | None


def invoice_ids(text: str) -> list[str]:
    """Invoice numbers in the order written, normalised to ``INV-1042`` (or a Stripe ``in_``)."""
    found = [f"INV-{m.group(1) or m.group(2)}" for m in _INVOICE.finditer(text)]
    found += _STRIPE_INVOICE.findall(text)
    return list(dict.fromkeys(found))


def emails(text: str) -> list[str]:
    """E-mail addresses, lower-cased; Slack's ``<mailto:a@b|a@b>`` yields one, not two."""
    return list(dict.fromkeys(e.lower().strip(".") for e in _EMAIL.findall(text)))


def customer_ids(text: str) -> list[str]:
    return list(dict.fromkeys(_CUSTOMER_ID.findall(text)))


def to_minor(amount: Decimal, currency: str) -> int:
    """Major units to the ledger's integer minor units (cents, or whole yen)."""
    factor = 1 if currency.upper() in ZERO_DECIMAL else 100
    return int((amount * factor).to_integral_value())


def to_major(minor: int, currency: str) -> Decimal:
    factor = 1 if currency.upper() in ZERO_DECIMAL else 100
    return Decimal(minor) / factor


def amounts(text: str) -> list[Money]:
    """Amounts with a currency marker; a bare number is not money (it may be an invoice)."""
    found: list[tuple[int, Money]] = []
    taken: list[range] = []
    for pattern in _AMOUNT_PATTERNS:
        for match in pattern.finditer(text):
            if any(match.start() in span for span in taken):
                continue
            marker = (match.groupdict().get("sym") or match.groupdict().get("code") or "").lower()
            currency = _SYMBOLS.get(marker) or _WORDS.get(marker) or marker.upper() or None
            try:
                value = Decimal(match.group("num").replace(",", ""))
            except InvalidOperation:
                continue
            taken.append(range(match.start(), match.end()))
            found.append((match.start(), Money(to_minor(value, currency or "USD"), currency)))
    return [money for _, money in sorted(found, key=lambda item: item[0])]


def services(text: str) -> list[str]:
    """Status-page services a message names, directly or by what they cover ("SSO" is auth)."""
    return [name for name, pattern in _SERVICES if pattern.search(text)]


def severity(text: str) -> SeverityLevel | None:
    """The severity a message declares or implies, using the incident runbook's levels."""
    declared = _SEV.search(text)
    if declared:
        return _LEVELS[declared.group(1)]
    if _SEV2_FIRST.search(text):
        return "SEV2"
    if _SEV1.search(text):
        return "SEV1"
    if _SEV2.search(text):
        return "SEV2"
    return None


def category_scores(text: str) -> dict[Category, int]:
    """How many distinct keywords of each category the text has (0 for none)."""
    return {
        name: len({m.group(0).lower() for m in pattern.finditer(text)})
        for name, pattern in _KEYWORDS.items()
    }


def category(text: str) -> Category:
    """The strongest category; an incident word outranks the rest, since it is time-critical."""
    scores = category_scores(text)
    if scores["incident"] and (severity(text) in ("SEV1", "SEV2") or wants_page(text)):
        return "incident"
    ranked: tuple[Category, ...] = ("billing", "technical", "account")
    best = max(ranked, key=lambda name: scores[name])
    return best if scores[best] else ("incident" if scores["incident"] else "general")


def priority(text: str) -> Priority:
    level = severity(text)
    if level == "SEV1":
        return "urgent"
    if level == "SEV2" or re.search(r"\bblock(?:ed|ing)\b|\bproduction\b", text, _FLAGS):
        return "high"
    if re.search(r"\bno rush\b|\bwhenever\b|\bwhen you (?:can|get a chance)\b", text, _FLAGS):
        return "low"
    return "normal"


def wants_refund(text: str) -> bool:
    return bool(_REFUND.search(text))


def wants_credit(text: str) -> bool:
    return bool(_CREDIT.search(text))


def wants_human(text: str) -> bool:
    return bool(_HUMAN.search(text))


def wants_page(text: str) -> bool:
    return bool(_PAGE.search(text))


def mentions_attempt(text: str) -> bool:
    return bool(_TRIED.search(text))


def mentions_time(text: str) -> bool:
    return bool(_WHEN.search(text))


def content_words(text: str) -> list[str]:
    """Words that carry meaning (three letters or more, not filler), lower-cased, in order."""
    words = (w.lower().strip("'-_") for w in _WORD.findall(text))
    return list(dict.fromkeys(w for w in words if w not in _STOP and len(w) >= 3))


def company_candidates(text: str) -> list[str]:
    """Runs of capitalised words that may name a company ("Helix Analytics", "Studio").

    The first word of a sentence is capitalised anyway, so one-word runs there are skipped
    unless they are the only word; the billing connector then decides what matches.
    """
    candidates: list[str] = []
    for sentence in re.split(r"[.!?\n]+(?:\s|$)", text):
        words = re.findall(r"[\w&'.-]+", sentence)
        start: int | None = None
        for index, word in enumerate([*words, ""]):
            capital = bool(word) and word[0].isupper() and not word.isupper()
            if capital and not (index == 0 and word.lower() in _SENTENCE_STARTS):
                start = index if start is None else start
                continue
            if start is not None and (index - start > 1 or start > 0 or len(words) == 1):
                candidates.append(" ".join(words[start:index]))
            start = None
    return list(dict.fromkeys(c for c in candidates if c.lower() not in _SENTENCE_STARTS))


_SENTENCE_STARTS = _wordset(
    "hi hello hey please can could would why what when how where who i we they the a an our "
    "my is are do does did refund explain show list check look find tell give credit send "
    "customer invoice thanks thank yes no ok okay also and but "
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday team business starter"
)


def clip(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, cut at a word with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def title_of(text: str, limit: int = 80) -> str:
    """A ticket title: the first sentence of the message, shortened."""
    first = re.split(r"(?<=[.!?])\s+|\n", text.strip(), maxsplit=1)[0]
    return clip(first or text, limit) or "Support request"


# -- the conversation ---------------------------------------------------------------------------

ERROR_STATUSES = frozenset({"error", "invalid", "invalid_arguments", "unknown_tool"})
APPROVAL_OUTCOMES = frozenset({"executed", "failed", "rejected", "expired"})


def handed_over(request: OfflineRequest) -> bool:
    """True when another specialist passed this turn on, so handing it on again could loop."""
    return any(
        m.get("role") == "system" and str(m.get("content") or "").startswith("Handed over:")
        for m in request.messages
    )


def may_hand_off(request: OfflineRequest) -> bool:
    return "handoff" in request.tools and not handed_over(request)


def failed(output: dict[str, Any]) -> bool:
    """The runner's answer for a call that did not run (tool error, bad arguments)."""
    return output.get("status") in ERROR_STATUSES


def detail_of(output: dict[str, Any]) -> str:
    """The end of a sentence about an outcome: ": why." or just "." when no reason was given."""
    detail = str(output.get("detail") or "").strip()
    if not detail:
        return "."
    return f": {detail}" if detail[-1] in ".!?" else f": {detail}."
