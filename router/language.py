"""Which language a message is in, from its most common words: enough to say "I answer in English".

Routing does not need this (the classifier was trained on the common requests in Spanish,
Portuguese, French and German too); the offline model does, because its replies are English
templates and a person writing in Spanish should be told so in one line rather than guess.
"""

from __future__ import annotations

import re

NAMES = {"es": "Spanish", "pt": "Portuguese", "fr": "French", "de": "German"}


def _wordset(words: str) -> frozenset[str]:
    """A set of words written as one string: easier to read and edit than a list literal."""
    return frozenset(words.split())


_WORDS: dict[str, frozenset[str]] = {
    "en": _wordset("the and is are my i you to of in it for not can with this have was me please"),
    "es": _wordset(
        "el la los las de que y en mi no es por para con una un del puedo quiero hola "
        "gracias cuenta pedido factura está tengo me mí ayuda"
    ),
    "pt": _wordset(
        "o a os as de que e em meu minha não é por para com uma um do da consigo quero olá "
        "obrigado obrigada conta pedido fatura está tenho você vocês"
    ),
    "fr": _wordset(
        "le la les de des que et en mon ma mes ne pas est pour avec une un du je vous "
        "bonjour merci compte commande facture suis ai"
    ),
    "de": _wordset(
        "der die das und ist nicht ich mein meine mit für ein eine zu den von sie bitte "
        "hallo danke konto bestellung rechnung kann habe wurde"
    ),
}
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)
_MIN_HITS = 2


def language(text: str) -> str:
    """An ISO 639-1 code ("en", "es", "pt", "fr", "de"); English when nothing else is clear."""
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    hits = {code: sum(t in words for t in tokens) for code, words in _WORDS.items()}
    best = max(hits, key=lambda code: hits[code])
    if best == "en" or hits[best] < _MIN_HITS or hits[best] <= hits["en"]:
        return "en"
    return best
