"""The two TF-IDF analyzers of the fast classifier, as plain functions.

Scikit-learn builds these for training, but importing it costs more than a second, and a cached
classifier needs only the analyzers to score a message. These are the same steps as
`TfidfVectorizer(ngram_range=(1, 2), token_pattern=WORD_PATTERN)` and
`TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5))` (lowercase, no accent stripping, no
stop words); `tests/router/test_classifier.py` holds them to sklearn's output.
"""

from __future__ import annotations

import re
from collections.abc import Callable

WORD_PATTERN = r"(?u)\b\w+\b"
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)
_WORD = re.compile(WORD_PATTERN)
_WHITE_SPACES = re.compile(r"\s\s+")


def words(text: str) -> list[str]:
    """Lowercased word tokens, then every pair of neighbours."""
    tokens = _WORD.findall(text.lower())
    low, high = WORD_NGRAMS
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high + 1, len(tokens) + 1)):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def characters(text: str) -> list[str]:
    """Character n-grams inside each word, padded with a space at both ends."""
    grams: list[str] = []
    low, high = CHAR_NGRAMS
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        for n in range(low, high + 1):
            offset = 0
            grams.append(padded[:n])
            while offset + n < len(padded):
                offset += 1
                grams.append(padded[offset : offset + n])
            if offset == 0:  # a word shorter than n counts once
                break
    return grams


ANALYZERS: tuple[Callable[[str], list[str]], ...] = (words, characters)
