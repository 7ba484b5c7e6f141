"""Frustration: when a person has asked before, feels ignored, or is shouting.

A cheerful template is the worst answer to "this is the third time I'm asking". These phrases
(in the languages the router understands) make the supervisor acknowledge it and bring in
escalation, which offers a person, whatever the topic.
"""

from __future__ import annotations

import re

_REPEATED = re.compile(
    r"\b(?:second|third|fourth|fifth|2nd|3rd|4th|5th|\d+th) time\b|\bagain and again\b"
    r"|\b(?:asked|asking|written|wrote|emailed|e-mailed|called|contacted|messaged|told you)\b"
    r"[^.!?\n]{0,30}\b(?:times|already|before|twice|again)\b"
    r"|\bstill (?:no|not|waiting|nothing|broken)\b|\bhow many times\b"
    r"|\b(?:tercera|cuarta|segunda) vez\b|\b(?:terceira|quarta|segunda) vez\b"
    r"|\b(?:troisième|quatrième|deuxième) fois\b|\b(?:dritte|vierte|zweite)n? mal\b",
    re.IGNORECASE,
)
_IGNORED = re.compile(
    r"\b(?:nobody|no one|noone|no-one)\b[^.!?\n]{0,20}\b(?:helps?|answers?|responds?|"
    r"replies|replied|cares?|gets back|called back)\b|\bnobody helps\b|\bno (?:answer|reply|"
    r"response) (?:yet|at all|from you)\b|\bbeing ignored\b|\bignoring me\b"
    r"|\bnadie (?:me )?(?:ayuda|responde|contesta)\b|\bninguém (?:me )?(?:ajuda|responde)\b"
    r"|\bpersonne ne (?:m'aide|répond)\b|\bniemand (?:hilft|antwortet|meldet sich)\b",
    re.IGNORECASE,
)
_LETTERS = re.compile(r"[^\W\d_]")
_SHOUTING_LETTERS = 12
_SHOUTING_SHARE = 0.8
_EXCLAIMS = re.compile(r"[!?]*![!?]*!{1,}[!?]*")


def frustration(text: str) -> str | None:
    """Why the message reads as frustrated ("asked before", "all caps", ...), or None."""
    if _REPEATED.search(text):
        return "asked before"
    if _IGNORED.search(text):
        return "feels ignored"
    letters = _LETTERS.findall(text)
    upper = sum(ch.isupper() for ch in letters)
    if len(letters) >= _SHOUTING_LETTERS and upper >= _SHOUTING_SHARE * len(letters):
        return "all caps"
    if len(_EXCLAIMS.findall(text)) >= 2 and any(len(m) >= 3 for m in _EXCLAIMS.findall(text)):
        return "exclamation marks"
    return None
