"""The technical specialist's tools: search the runbooks and check services' health.

A search result carries the section's steps and its citation ready to quote, and how
well it matches, so the reply (offline or a model's) can say when nothing fits.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from agents.connectors.knowledge import KnowledgeBase, KnowledgeBaseError, KnowledgeHit
from agents.connectors.status import ServiceStatus, StatusChecker, UnknownServiceError
from agents.errors import ToolError
from agents.specialists.extract import (
    clip,
    content_words,
)
from agents.tool import Tool, ToolContext, ToolOutput

MAX_STEPS = 4
GOOD_MATCH = 0.4  # share of the question's words the best section must contain
_LIST_ITEM = re.compile(r"^(?:\d+[.)]|[-*•])\s+(.*)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


class SearchArgs(BaseModel):
    query: str = Field(min_length=2, description="What to look for, in the user's own words.")
    limit: int = Field(default=3, ge=1, le=8, description="How many sections to return.")


class StatusArgs(BaseModel):
    service: str | None = Field(
        default=None, description="One service by name, or leave empty to check them all."
    )


def section_name(hit: KnowledgeHit) -> str:
    """The heading path below the file's title, as a reader would name the section."""
    parts = hit.heading.split(" > ")
    return " › ".join(parts[1:] if len(parts) > 1 else parts)


def citation(hit: KnowledgeHit) -> str:
    return f"(runbook: {hit.path} › {section_name(hit)})"


def _table_row(line: str) -> str | None:
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) < 2 or set("".join(cells)) <= set("-: "):
        return None
    return f"{cells[0]}: {cells[-1]}"


def _command(line: str) -> str | None:
    """A shell line of a runbook as a step: "Run `lsctl sso show` (what it shows)"."""
    command, _, comment = line.partition(" #")
    command = command.strip()
    if not command or command.startswith("#"):
        return None
    return f"Run `{command}`" + (f" ({comment.strip()})" if comment.strip() else "")


def steps_of(body: str, limit: int = MAX_STEPS) -> tuple[list[str], bool]:
    """The first list items of a section, or its table rows; else its commands and sentences.

    The flag says whether these are real steps rather than only prose, because an answer
    should quote a runbook's steps and fall back to its description only when it has none.
    Commands and sentences keep their order, so "After the fix:" stays before the command.
    """
    items: list[str] = []
    rows: list[str] = []
    ordered: list[str] = []  # sentences and commands, in the order they appear
    paragraph: list[str] = []
    fenced = commands = False

    def flush() -> None:
        ordered.extend(s for s in _SENTENCE.split(" ".join(paragraph)) if s)
        paragraph.clear()

    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            flush()
            fenced = not fenced
        elif fenced:
            step = _command(stripped)
            ordered += [step] if step else []
            commands |= step is not None
        elif item := _LIST_ITEM.match(stripped):
            items.append(item.group(1))
        elif stripped.startswith("|"):
            rows += filter(None, [_table_row(stripped)])
        elif stripped and items and line[:1].isspace():
            items[-1] += " " + stripped
        elif stripped:
            paragraph.append(stripped)
        else:
            flush()
    flush()
    steps = items or rows[1:] or ordered
    return [clip(step, 240) for step in steps][:limit], bool(items or rows[1:] or commands)


def unknown_codes(query: str, bodies: list[str]) -> list[str]:
    """Error codes the user quoted ("invalid_grant", "AUTH-999") that no section mentions."""
    codes = re.findall(r"\b[a-z]+_[a-z_]+\b|\b[A-Z]{2,}-\d+\b", query)
    text = " ".join(bodies).lower()
    return [code for code in dict.fromkeys(codes) if code.lower() not in text]


def coverage(query: str, hit: KnowledgeHit) -> float:
    """The share of the query's meaningful words found in the section (by word stem)."""
    terms = [t for w in content_words(query) for t in w.split("_") if len(t) >= 3]
    if not terms:
        return 0.0
    text = f"{hit.heading} {hit.body}".lower()
    stems = [re.sub(r"(?:ing|ed|es|s)$", "", t) if len(t) > 4 else t for t in terms]
    return sum(stem in text for stem in stems) / len(stems)


def status_view(status: ServiceStatus) -> dict[str, Any]:
    return {
        "service": status.name,
        "up": status.ok,
        "http_status": status.http_status,
        "latency_ms": status.latency_ms,
        "detail": status.detail,
    }


class TechnicalTools:
    def __init__(self, knowledge: KnowledgeBase, status: StatusChecker) -> None:
        self.knowledge = knowledge
        self.status = status

    async def search_knowledge(self, args: SearchArgs, ctx: ToolContext) -> ToolOutput:
        try:
            hits = await self.knowledge.search(args.query, args.limit)
        except KnowledgeBaseError as exc:  # a misconfigured folder: say so, don't crash the turn
            raise ToolError(str(exc)) from exc
        shares = [coverage(args.query, hit) for hit in hits]
        views = []
        for hit, share in zip(hits, shares, strict=True):
            steps, listed = steps_of(hit.body)
            views.append(
                {
                    "file": hit.path,
                    "section": section_name(hit),
                    "citation": citation(hit),
                    "snippet": hit.snippet,
                    "steps": steps,
                    "has_steps": listed,
                    "body": clip(hit.body, 1500),
                    "match": round(share, 2),
                }
            )
        return {
            "query": args.query,
            "good_match": bool(hits) and shares[0] >= GOOD_MATCH,
            "not_in_runbooks": unknown_codes(args.query, [h.body for h in hits]),
            "hits": views,
        }

    async def check_status(self, args: StatusArgs, ctx: ToolContext) -> ToolOutput:
        configured = self.status.services
        if not args.service:
            checked = await self.status.check_all()
            return {"services": [status_view(s) for s in checked], "configured": configured}
        try:
            one = await self.status.check(args.service)
        except UnknownServiceError:
            return {"services": [], "unknown": [args.service], "configured": configured}
        return {"services": [status_view(one)], "configured": configured}

    def tools(self) -> tuple[Tool[Any], ...]:
        known = ", ".join(self.status.services) or "none configured"
        return (
            Tool(
                name="search_knowledge",
                description=(
                    "Search the support runbooks; returns sections with steps and a citation."
                ),
                args=SearchArgs,
                run=self.search_knowledge,
            ),
            Tool(
                name="check_status",
                description=f"Check whether a service is up right now (services: {known}).",
                args=StatusArgs,
                run=self.check_status,
            ),
        )
