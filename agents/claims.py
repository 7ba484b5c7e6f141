"""What a reply may say happened: only what the tools report, never what the model asserts.

A model (or a prompt injection steering one) can write "The refund has been issued" when only an
approval card was posted. The reply then contradicts the state, and people act on the wrong one.
Tools that change the world declare the kind of effect they have (`Tool.effect`:
money, page, incident, ticket). A sentence that claims an effect of a kind no tool carried out
in this turn is dropped; while approvals are pending, sentences about approval are dropped too,
because the supervisor states pending actions from the approval rows instead.
The patterns cover English, Spanish, Portuguese, French and German.
"""

from __future__ import annotations

import re
from collections.abc import Collection

EFFECT_WORDS: dict[str, re.Pattern[str]] = {
    "money": re.compile(
        r"refund|reimburs|credit(?!\s*card)|reembols|rembours|erstatt|gutschrift|estorn|"
        r"money (?:is|was|has been) (?:sent|returned|back)",
        re.IGNORECASE,
    ),
    "page": re.compile(
        r"\bpag(?:ed|ing)\b|on-?call|guardia|plant[aã]o|astreinte|bereitschaft|rufbereitschaft",
        re.IGNORECASE,
    ),
    "incident": re.compile(r"incident|vorfall", re.IGNORECASE),
    "ticket": re.compile(r"\bticket|\bchamado\b", re.IGNORECASE),
}
_DONE = re.compile(
    r"\b(?:has|have) been\b|\bwas\b|\bwere\b|\b(?:i|we)(?:['’]ve| have)\b|\bdone\b|✅|"
    r"\bsuccessfully\b|\b(?:issued|processed|completed|sent|opened|created|filed|paged|"
    r"refunded|credited|notified|triggered|escalated)\b|"
    r"\bha sido\b|\bfue\b|\bhe\b|\bhemos\b|\bfoi\b|\bforam\b|\ba été\b|\bont été\b|\bai\b|"
    r"\bwurde\b|\bwurden\b|\bhabe\b|\bhaben\b|\berledigt\b|\bemitid|\bprocesad|\bprocessad|"
    r"\beffectu|\bveranlasst\b",
    re.IGNORECASE,
)
_HEDGE = re.compile(
    r"\bnot\b|n['’]t\b|\bnothing\b|\bno\b|\bnever\b|\bwait|\bpending\b|\bonce\b|\bif\b|"
    r"\bwill\b|\bwould\b|\bcan\b|\bcould\b|\bneeds?\b|\brequires?\b|\bawait|\brejected\b|"
    r"\bexpired\b|\bfail|\bbefore\b|\bask|\?|\bnada\b|\bnão\b|\bpas\b|\bnicht\b|\bkein|"
    r"\bnoch\b|\baún\b|\bainda\b|\bencore\b",
    re.IGNORECASE,
)
_ABOUT_APPROVAL = re.compile(r"approv|aprob|aprova|genehmig|freigab", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n")

REMOVED_NOTE = (
    "_Part of the drafted reply said an action had been carried out when it had not, so it "
    "was left out._"
)


def claims_effect(sentence: str, kind: str) -> bool:
    """Whether `sentence` asserts that an effect of `kind` already happened."""
    return bool(
        EFFECT_WORDS[kind].search(sentence)
        and _DONE.search(sentence)
        and not _HEDGE.search(sentence)
    )


def keep_backed(text: str, done: Collection[str], pending: bool = False) -> tuple[str, bool]:
    """`text` without sentences that claim effects nobody carried out; True if any were cut.

    `done`: effect kinds a tool carried out in this turn. `pending`: this turn asked for
    approvals, so sentences about approval give way to the state the supervisor states.
    """
    kept: list[str] = []
    removed = False
    position = 0
    for match in [*_SENTENCE.finditer(text), None]:
        end = match.start() if match else len(text)
        sentence = text[position:end]
        separator = match.group(0) if match else ""
        position = match.end() if match else len(text)
        false_claim = _false_claim(sentence, done)
        if false_claim or (pending and _ABOUT_APPROVAL.search(sentence)):
            removed = removed or false_claim
            if "\n" in separator:
                kept.append("\n")
            continue
        kept.append(sentence + separator)
    cleaned = re.sub(r"\n{3,}", "\n\n", "".join(kept)).strip()
    return cleaned, removed


def _false_claim(sentence: str, done: Collection[str]) -> bool:
    return any(kind not in done and claims_effect(sentence, kind) for kind in EFFECT_WORDS)
