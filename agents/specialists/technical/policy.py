"""The offline technical policy: search and check status together, then answer or say so.

An answer quotes the best runbook's steps with their citation; when nothing fits, it says so
and asks for what would help, rather than making steps up.
"""

from __future__ import annotations

import re
from typing import Any

from agents.offline import OfflineRequest, OfflineStep, ToolResult
from agents.specialists.extract import (
    category_scores,
    failed,
    may_hand_off,
    services,
    wants_human,
    wants_page,
)
from agents.specialists.technical.tools import MAX_STEPS

_ESCALATION_SECTION = re.compile(r"\bwhen (?:to escalate|it is)\b", re.IGNORECASE)

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
