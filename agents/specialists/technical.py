"""The technical specialist: answers from the runbooks and from live health checks.

An answer to "SSO fails with invalid_grant" should be the steps the identity team wrote down,
with where they come from, and whether `auth` is up right now: so the agent searches the
knowledge base, checks the status of the services the message names, and cites the section it
quotes ("(runbook: sso-and-login.md › SSO (SAML and OIDC))"). When no runbook fits, it says
so, flags low confidence (the supervisor may then ask a colleague), and asks for what would
help instead of making something up.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from agents.agent import IN_THEIR_LANGUAGE, Agent, SuggestedPrompt
from agents.connectors.knowledge import KnowledgeBase, KnowledgeBaseError, KnowledgeHit
from agents.connectors.status import ServiceStatus, StatusChecker, UnknownServiceError
from agents.errors import ToolError
from agents.offline import OfflineRequest, OfflineStep, ToolResult
from agents.specialists.extract import (
    category_scores,
    clip,
    content_words,
    failed,
    may_hand_off,
    services,
    wants_human,
    wants_page,
)
from agents.tool import Tool, ToolContext, ToolOutput

INSTRUCTIONS = """You are Switchboard's technical specialist for Larkspur Cloud's support team:
sign-in and SSO, the API and rate limits, webhooks, the dashboard, the mobile app, exports.

- Search the runbooks with search_knowledge before answering, and base the steps on what it
  returns. Cite every section you use like (runbook: sso-and-login.md › SSO (SAML and OIDC)).
- When the message names a service (api, dashboard, auth, webhooks, billing), call
  check_status and say whether it is up, with the detail the check returned.
- Never invent commands, error codes or settings that the runbooks do not contain. If nothing
  fits, call flag_low_confidence and ask for what would help: the exact error, the service,
  when it started, how many users are affected.
- You cannot page anyone or move money; other specialists do that, and risky actions need a
  human's approval, which the system handles. Never claim an action happened unless a tool
  result says so.
- Reply in Slack mrkdwn: short, concrete, steps as bullets with •."""

SUGGESTION = SuggestedPrompt(
    "Fix an SSO login", "Our SSO login fails with invalid_grant since this morning"
)
DESCRIPTION = (
    "Technical: login and SSO, API errors and rate limits, webhooks, dashboard, mobile app, "
    "exports; answers from the runbooks and live health checks."
)

MAX_STEPS = 4
GOOD_MATCH = 0.4  # share of the question's words the best section must contain
_LIST_ITEM = re.compile(r"^(?:\d+[.)]|[-*•])\s+(.*)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_ESCALATION_SECTION = re.compile(r"\bwhen (?:to escalate|it is)\b", re.IGNORECASE)


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
                "search_knowledge",
                "Search the support runbooks; returns sections with steps and a citation.",
                SearchArgs,
                self.search_knowledge,
            ),
            Tool(
                "check_status",
                f"Check whether a service is up right now (services: {known}).",
                StatusArgs,
                self.check_status,
            ),
        )


def build_technical(
    knowledge: KnowledgeBase, status: StatusChecker, *, model: str | None = None
) -> Agent:
    return Agent(
        name="technical",
        description=DESCRIPTION,
        instructions=f"{INSTRUCTIONS}\n{IN_THEIR_LANGUAGE}",
        tools=TechnicalTools(knowledge, status).tools(),
        policy=policy,
        model=model,
        suggestion=SUGGESTION,
    )


ASK_MORE = (
    "To narrow it down, could you tell me:\n• the exact error message or code\n"
    "• which part is affected (API, dashboard, sign-in/SSO, webhooks, mobile app) and since "
    "when\n• how many users or organisations see it, and what you have tried so far"
)


def policy(request: OfflineRequest) -> OfflineStep:
    """Offline technical: search and check status together, then answer from the best section."""
    text = request.user_text
    search = request.result("search_knowledge")
    if search is None:
        target = _elsewhere(text)
        if target and may_hand_off(request):
            reason = f"This is for {target}, not a technical question."
            return OfflineStep(tool_calls=[("handoff", {"to": target, "reason": reason})])
        calls = [("search_knowledge", {"query": text, "limit": 8})]
        calls += [("check_status", {"service": name}) for name in services(text)]
        return OfflineStep(tool_calls=calls)
    checks = [r for r in request.results if r.name == "check_status"]
    out = search.output
    if not failed(out) and out.get("good_match"):
        return OfflineStep(text=_answer(out, checks))
    if not request.called("flag_low_confidence"):
        reason = "No runbook matches this question well."
        return OfflineStep(tool_calls=[("flag_low_confidence", {"reason": reason})])
    return OfflineStep(text=_unsure(out, checks))


def _elsewhere(text: str) -> str | None:
    """Hand off only what is plainly not technical: a page request, or money with no tech word."""
    scores = category_scores(text)
    if wants_page(text):
        return "escalation"
    if scores["technical"]:
        return None
    if scores["billing"]:
        return "billing"
    return "escalation" if wants_human(text) else None


def _status_lines(checks: list[ToolResult]) -> list[str]:
    lines: list[str] = []
    for check in checks:
        if failed(check.output):
            continue
        for s in check.output.get("services") or []:
            state = "✅ up" if s["up"] else "⚠️ *failing*"
            lines.append(f"• `{s['service']}` is {state} ({s['detail']})")
        for name in check.output.get("unknown") or []:
            lines.append(f"• `{name}`: no health check is configured for it")
    return lines


def _answer(out: dict[str, Any], checks: list[ToolResult]) -> str:
    """Steps from the sections of the best runbook that have steps, with their citations.

    Among that runbook's sections, the ones that share most words with the question come
    first; "when to escalate" sections last, since they tell staff when to page, not how to
    fix. Only the sections that gave a step are cited.
    """
    hits: list[dict[str, Any]] = out["hits"]
    ranked = sorted(
        (h for h in hits if h["file"] == hits[0]["file"] and h["has_steps"]),
        key=lambda h: (bool(_ESCALATION_SECTION.search(h["section"])), -h["match"]),
    )
    used: list[dict[str, Any]] = []
    steps: list[str] = []
    for hit in ranked:
        if len(steps) >= MAX_STEPS:
            break
        used.append(hit)
        steps += hit["steps"][: MAX_STEPS - len(steps)]
    if not used:
        used, steps = hits[:1], hits[0]["steps"]
    lines = [f"*{used[0]['section']}* ({used[0]['file']})"]
    missing = out.get("not_in_runbooks") or []
    if missing:
        quoted = ", ".join(f"`{code}`" for code in missing)
        lines.append(f"{quoted} is not in our runbooks; this is the closest guidance.")
    status = _status_lines(checks)
    if status:
        lines += ["*Status right now:*", *status]
    lines += ["*Try this:*", *(f"• {step}" for step in steps)]
    lines.append(" ".join(hit["citation"] for hit in used))
    if any("failing" in line for line in status):
        lines.append("A service is failing: if several customers are affected, ask me to escalate.")
    return "\n".join(lines)


def _unsure(out: dict[str, Any], checks: list[ToolResult]) -> str:
    lines = ["I couldn't find a runbook that clearly fits this, so I won't guess."]
    status = _status_lines(checks)
    if status:
        lines += ["*Status right now:*", *status]
    hits = [] if failed(out) else out.get("hits") or []
    if hits:
        lines.append(f"The closest section is {hits[0]['citation']}, but it may not apply.")
    lines.append(ASK_MORE)
    return "\n".join(lines)
