"""Block Kit rendering of replies, within Slack's limits, with slack_sdk's block models.

Agents write mrkdwn. Their text may quote the user, so before it reaches Slack every `&`, `<`
and `>` is escaped except in the few forms Switchboard writes on purpose (links, a few user
mentions, channel links), and `@channel`-style words are disarmed: a user typing `<!channel>`,
`<!subteam^…>` or `@here` must not make the bot ping a whole channel or group. The mentions the
bot means (the on-call group it pages) are added by its own code, after this.
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from agents.mentions import defang

SECTION_LIMIT = 3000
BLOCK_LIMIT = 50
_SAFE = re.compile(r"<(?:https?://[^\s<>|]+(?:\|[^<>]*)?|@[UW][A-Z0-9]+|#C[A-Z0-9]+(?:\|[^<>]*)?)>")
_USER = re.compile(r"<@[UW][A-Z0-9]+>")
MAX_USER_MENTIONS = 5  # more people than this in one message is a mass mention too


def escape(text: str) -> str:
    """Plain text for mrkdwn: nothing in it links, formats a mention or notifies anyone."""
    return defang(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def safe_mrkdwn(text: str) -> str:
    """Escape everything except links, channel links and a few user mentions."""
    many = len(set(_USER.findall(text))) > MAX_USER_MENTIONS
    out, last = [], 0
    for match in _SAFE.finditer(text):
        out.append(escape(text[last : match.start()]))
        kept = match.group(0)
        out.append(escape(kept) if many and _USER.fullmatch(kept) else kept)
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


def chunks(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split on paragraph, then line, then word boundaries so no piece exceeds `limit`."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = max(
            rest.rfind("\n\n", 0, limit), rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit)
        )
        cut = cut if cut > limit // 2 else limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces or [""]


def reply_messages(text: str, context: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """One reply as Slack messages: (fallback text, blocks), several if it is very long."""
    sections: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=c)) for c in chunks(safe_mrkdwn(text))
    ]
    footer = ContextBlock(elements=[MarkdownTextObject(text=context)])
    per_message = BLOCK_LIMIT - 1
    groups = [sections[i : i + per_message] for i in range(0, len(sections), per_message)] or [[]]
    messages = []
    for index, group in enumerate(groups):
        blocks = [*group, footer] if index == len(groups) - 1 else group
        safe = safe_mrkdwn(text)
        fallback = (
            safe if len(groups) == 1 else f"{safe[:200]}… (part {index + 1} of {len(groups)})"
        )
        messages.append((fallback[:3900], [b.to_dict() for b in blocks]))
    return messages


def attribution(agent: str, source: str, confidence: float, degraded: bool = False) -> str:
    """The context line under a reply: who answered and why they were picked."""
    if source == "approval":
        line = f"Answered by *{agent.title()}* · after the approval decision"
    else:
        line = f"Answered by *{agent.title()}* · routed by {source} ({confidence:.0%})"
    return line + (" · offline model" if degraded else "")
