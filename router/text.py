"""What a message says, with the parts that carry no intent taken away.

Mentions, links, addresses and emoji codes say who and where, not what; every order or invoice
number is different; and a long e-mail wraps its one request in a greeting, a sign-off and a
signature that every route shares. Left in, they pull a long e-mail towards whichever route has
the most formal examples, so both classifiers see the message without them.
"""

from __future__ import annotations

import re
import unicodedata

# Slack markup: <@U123>, <#C123|general>, <!here>, <https://x|label>, <mailto:a@b|a@b>.
_SLACK_LINK = re.compile(r"<(?:https?|mailto):[^>|]*(?:\|([^>]*))?>")
_SLACK_REF = re.compile(r"<[@#!][^>]*>")
_URL = re.compile(r"https?://\S+|www\.\S+")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_HANDLE = re.compile(r"(?<!\w)@\w+")
_EMOJI_CODE = re.compile(r":[a-z0-9_+'-]+:")
_DIGITS = re.compile(r"\d+")
_REPEAT = re.compile(r"(.)\1{2,}")
_SPACE = re.compile(r"[ \t]+")

_SUBJECT = re.compile(r"^\s*(?:subject|betreff|asunto|assunto|objet|re|aw|fwd?)\s*:\s*", re.I)
_GREETING = re.compile(
    r"^\s*(?:dear|hello|hi|hey|hiya|good (?:morning|afternoon|evening|day)|greetings|"
    r"to whom it may concern|sehr geehrte|guten (?:tag|morgen|abend)|hallo|liebe[rs]?|"
    r"hola|buen[oa]s(?: días| tardes| noches)?|estimad[oa]s?|bonjour|bonsoir|salut|"
    r"madame|monsieur|olá|oi|bom dia|boa tarde|prezad[oa]s?|caro)\b",
    re.I,
)
_SIGN_OFF = re.compile(
    r"^\s*(?:(?:best|kind|warm|many|with)?\s*(?:regards|wishes)|thanks?(?: you)?(?: in advance)?|"
    r"many thanks|cheers|sincerely|yours(?: truly| faithfully| sincerely)?|"
    r"(?:mit )?(?:freundlichen|besten|vielen) grüßen|viele grüße|(?:liebe|beste) grüße|"
    r"danke(?: und gruß)?|gruß|saludos|un saludo|atentamente|gracias|cordialement|"
    r"bien cordialement|merci(?: d'avance)?|bien à vous|atenciosamente|obrigad[oa]|abraços?)\b",
    re.I,
)
_SHORT_LINE = 5  # words: longer lines that start with "Hi" or "Thanks" carry the request


def clean(text: str) -> str:
    """Slack markup, links, addresses and handles removed; shouting and stretching evened out."""
    text = unicodedata.normalize("NFKC", text)
    text = _SLACK_LINK.sub(lambda m: f" {m.group(1) or ''} ", text)
    text = _SLACK_REF.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _EMAIL.sub(" ", text)
    text = _HANDLE.sub(" ", text)
    text = _EMOJI_CODE.sub(" ", text.replace("\u2019", "'"))
    text = _REPEAT.sub(r"\1\1", text)
    return "\n".join(
        line for line in (_SPACE.sub(" ", x).strip() for x in text.splitlines()) if line
    )


def normalize(text: str) -> str:
    """One lower-case line, every number the same symbol ("INV-2024-0193" and "INV-1" alike)."""
    return fold(clean(text))


def fold(cleaned: str) -> str:
    """`normalize` for text `clean` has seen already (the gist): lower case, digits, one line."""
    return " ".join(_DIGITS.sub("0", cleaned.lower()).split())


def gist(text: str) -> str:
    """An e-mail without its subject label, greeting line, sign-off and signature.

    Only whole short lines go: "Hi, I can't log in" keeps its request. A one-line chat message is
    returned as it is, and so is anything that would come out empty ("Thanks!").
    """
    lines = clean(text).splitlines()
    if len(lines) < 2:
        return " ".join(lines)
    kept: list[str] = []
    for index, line in enumerate(lines):
        line = _SUBJECT.sub("", line)
        short = len(line.split()) <= _SHORT_LINE
        if index > 0 and short and _SIGN_OFF.match(line):
            break  # the sign-off, and the signature under it
        if short and _GREETING.match(line) and not line.rstrip().endswith(("?", ".")):
            continue
        if line:
            kept.append(line)
    return " ".join(kept) or " ".join(lines)
