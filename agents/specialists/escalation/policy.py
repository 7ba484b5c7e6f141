"""The offline escalation policy: summarise, then page and open an incident, or hand over.

Each outcome is reported exactly as the approval's result says, so nobody believes on-call was
paged when the page is still waiting or failed.
"""

from __future__ import annotations

from typing import Any

from agents.offline import OfflineRequest, OfflineStep, ToolResult
from agents.specialists.extract import (
    APPROVAL_OUTCOMES,
    ERROR_STATUSES,
    clip,
    detail_of,
    services,
    severity,
    title_of,
    wants_page,
)

_ACTIONS = ("page_oncall", "open_incident", "open_handover_ticket")


def policy(request: OfflineRequest) -> OfflineStep:
    """Offline escalation: summarise, then page and open an incident, or hand to a person."""
    text = request.user_text
    decided = [r for r in request.results if r.output.get("status") in APPROVAL_OUTCOMES]
    if decided:
        return OfflineStep(text="\n".join(_outcome(r) for r in decided))
    summary = request.result("summarize_thread")
    if summary is None:
        return OfflineStep(tool_calls=[("summarize_thread", {})])
    actions = [r for r in request.results if r.name in _ACTIONS]
    if actions:
        return OfflineStep(text=_report(summary.output, actions))
    level = severity(text)
    if level in ("SEV1", "SEV2") or wants_page(text):
        level = level or "SEV2"
        named = services(text)
        page = {
            "summary": clip(text, 200),
            "severity": level,
            "service": named[0] if named else None,
            "context": str(summary.output.get("summary") or "")[:2000],
        }
        incident = {"title": title_of(text, 120), "severity": level}
        return OfflineStep(
            text=f"{level} reported; on-call should know.",
            tool_calls=[("page_oncall", page), ("open_incident", incident)],
        )
    priority = "normal" if level == "SEV3" else "high"
    handover = {"title": f"Handover: {title_of(text, 100)}", "priority": priority}
    return OfflineStep(tool_calls=[("open_handover_ticket", handover)])


def _report(summary: dict[str, Any], actions: list[ToolResult]) -> str:
    lines: list[str] = []
    for action in actions:
        out = action.output
        if out.get("status") == "approval_requested":
            continue  # stated by the supervisor from the approval itself
        if out.get("status") in ERROR_STATUSES:
            lines.append(f"⚠️ I couldn't {action.name.replace('_', ' ')}: {out.get('detail')}")
        elif action.name == "open_handover_ticket":
            below = " with the summary below" if summary.get("summary") else ""
            lines.append(
                f"*A person will pick this up.* I opened ticket *{out['ticket']}* "
                f"({out['priority']} priority){below}, so nobody has to ask again."
            )
        else:
            lines.append(_outcome(action))
    text = str(summary.get("summary") or "")
    if text:
        lines += ["*Thread so far:*", text]
    return "\n".join(lines)


def _outcome(result: ToolResult) -> str:
    """What happened to a page or an incident, exactly as the result says."""
    out, args = result.output, result.arguments
    what = "page to on-call" if result.name == "page_oncall" else "incident"
    detail = detail_of(out)
    status = out.get("status")
    if status == "rejected":
        return f"❌ The {what} was *not* made: an approver rejected it{detail}"
    if status == "expired":
        return f"⌛ The approval for the {what} expired, so nothing was done. Ask again if needed."
    if status == "failed":
        fallback = " Call the on-call person directly." if result.name == "page_oncall" else ""
        return f"⚠️ The {what} was approved but *did not go through*{detail}{fallback}"
    if result.name == "page_oncall":
        return (
            f"📟 On-call has been paged at {out.get('severity', args.get('severity'))} through "
            f"{out.get('provider')} ({out.get('detail')}; reference `{out.get('reference')}`)."
        )
    if result.name == "open_incident":
        opened = f"*{out.get('incident')}* at {out.get('severity')}"
        return f"🚨 Incident {opened} is open: {out.get('title')}."
    return f"Done: {result.name}."
