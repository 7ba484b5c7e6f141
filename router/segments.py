"""Cutting a message into the pieces that might each ask for something different.

People put two requests in one message ("I was charged twice, and also the app crashes") and
join them with sentence ends or a handful of connectives. The cut is deliberately crude: the
classifier decides afterwards whether the pieces really disagree, so a bad cut costs little.
Greetings, sign-offs and other short pieces are dropped here because a piece of three words
has too little text for a confident opinion of its own, and so are pieces that only say that
something else is fine.
"""

from __future__ import annotations

import re

# Sentence ends, line breaks, semicolons and the connectives that usually start a new request.
# Longer alternatives come first so that "and also" is cut as one connective, not as "also".
_BOUNDARY = re.compile(
    r"(?<=[.!?])\s+|\n+|;|"
    r"\s*,?\s*\b(?:and also|and then|because|since then|also|plus|but|another thing|"
    r"on top of that|separately|additionally|apart from that|as well as that)\b\s*,?|"
    # "double charged and I can't log in": "and" before a new subject or a new complaint
    r"\s+and\s+(?=(?:i|we|my|our|now|can'?t|cannot|couldn'?t)\b)",
    re.IGNORECASE,
)
# A piece that says something is fine is context for the request, not a request:
# "Not a billing question, our invoice is fine." / "The app itself works great, but ..."
_ALL_CLEAR = re.compile(
    r"\b(?:not an? (?:\w+ )?(?:question|issue|problem|bug)|(?:is|are|looks?|works?|working) "
    r"(?:fine|great|ok|okay|perfectly)|no (?:complaints|issues?|problems?) (?:with|here)|"
    r"(?:is|are) (?:all )?sorted|all good|hope (?:you(?:'re| are)|all is|this finds you)|"
    r"thanks? (?:you )?for (?:the|your) (?:great|awesome|amazing|quick)|rock solid|"
    r"love (?:the|your) (?:app|product|service))\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]{2,}")
_MIN_WORDS = 2


def split_segments(text: str, min_words: int = _MIN_WORDS) -> list[str]:
    """Pieces of `text` worth classifying on their own, in order; the whole text if none."""
    pieces = [p.strip(" ,.-") for p in _BOUNDARY.split(text) if p and p.strip()]
    kept = [p for p in pieces if len(_WORD.findall(p)) >= min_words and not _ALL_CLEAR.search(p)]
    return kept or [text.strip()]
