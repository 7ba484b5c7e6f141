"""The knowledge base: runbook sections found by the words of a question.

The technical specialist answers from the support runbooks. The index behind this door (a
full-text index over a folder of Markdown files) lives in `storage.knowledge`, and `bot.doors`
adapts it here, so the specialist knows only the sections a search returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from agents.connectors import ConnectorError


class KnowledgeBaseError(ConnectorError):
    """The knowledge base cannot be read (a folder that is missing, say); written for a person."""


@dataclass(frozen=True, kw_only=True)
class KnowledgeHit:
    """One section of a runbook that matched, best first in a search's results.

    ``heading`` is the path of headings from the file's title down, joined with " > ";
    ``snippet`` is a short excerpt around the matched words; ``body`` is the whole section,
    for an answer that quotes its steps.
    """

    path: str
    heading: str
    snippet: str
    body: str


class KnowledgeBase(Protocol):
    async def search(self, query: str, limit: int) -> list[KnowledgeHit]:
        """Up to ``limit`` sections matching ``query``, best first.

        Raises `KnowledgeBaseError` when the knowledge base cannot be read.
        """
        ...
