"""Disarming Slack's special mentions in text that people or models wrote.

`<!channel>`, `<!here>`, `<!everyone>` and `<!subteam^…>` notify many people at once; so can the
plain words `@channel`, `@here` and `@everyone` where Slack parses mrkdwn. Text a user typed or
a model wrote must never reach Slack with them intact, or anyone who can talk to the bot can
page a whole channel through it. `defang` is the one function that disarms them; the only
mentions left alone are the user groups the calling code means (the on-call group it pages, the
approvers it names) and `<!date^…>`, which formats a time and notifies nobody.
"""

from __future__ import annotations

import re
from collections.abc import Collection

_SPECIAL = re.compile(r"<!([^<>]*)>")
_WORDS = re.compile(r"(?<![\w@/.])@(channel|here|everyone)\b", re.IGNORECASE)
_WORD_JOINER = "\u2060"  # invisible, and breaks Slack's match on the word


def defang(text: str, allowed_groups: Collection[str] = ()) -> str:
    """`text` with every special mention disarmed, except `<!subteam^G>` for G in allowed_groups."""

    def special(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner.startswith("date^"):
            return match.group(0)
        if inner.startswith("subteam^"):
            group = inner[len("subteam^") :].split("|", 1)[0]
            if group in allowed_groups:
                return match.group(0)
        return f"&lt;!{inner}&gt;"

    text = _SPECIAL.sub(special, text)
    return _WORDS.sub(lambda m: f"@{_WORD_JOINER}{m.group(1)}", text)


def has_mass_mention(text: str, allowed_groups: Collection[str] = ()) -> bool:
    """Whether `text` would notify a group or a whole channel (tests and the client's guard)."""
    return defang(text, allowed_groups) != text
