"""How a digest looks: Block Kit within Slack's limits, a fallback text, and the chart.

Every figure is shown with its change against the previous window of the same length, so a
reader sees at a glance what moved. The chart is drawn with matplotlib's Agg canvas directly
(no pyplot, so no global figure state and no GUI backend), on a worker thread. matplotlib is
imported only when a chart is drawn: a deployment without digests never loads it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.slack.render import BLOCK_LIMIT, SECTION_LIMIT, escape
from storage.figures import DailyRoutes, OpenItem, WindowFigures

ALT_LIMIT = 1000
FIELD_LIMIT = 2000
COLORS = {
    "billing": "#2EB67D",
    "technical": "#36C5F0",
    "triage": "#ECB22E",
    "escalation": "#E01E5A",
}
OTHER_COLORS = ("#4A154B", "#1264A3", "#7C3085", "#9E9EA6")


@dataclass(frozen=True, kw_only=True)
class DigestView:
    """What the digest needs to be drawn: both windows, open items and where they link to."""

    name: str
    zone: ZoneInfo
    window: timedelta
    current: WindowFigures
    previous: WindowFigures
    open_items: list[OpenItem]
    open_total: int
    links: dict[tuple[str, str], str]


def span(window: timedelta) -> str:
    """`24h`, `7d`, `90m`: the window as people write it in the config."""
    seconds = int(window.total_seconds())
    for unit, size, least in (("d", 86400, 2 * 86400), ("h", 3600, 3600), ("m", 60, 60)):
        if seconds % size == 0 and seconds >= least:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.0f}s" if seconds >= 1 or seconds == 0 else f"{seconds:.1f}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def money(amount: float) -> str:
    return f"${amount:,.2f}" if abs(amount) >= 1 or amount == 0 else f"${amount:.4f}"


def versus(
    now: float | None,
    before: float | None,
    shown: Callable[[float], str] = str,
    change: Callable[[float], str] | None = None,
) -> str:
    """`42 (+5)`: a figure and its change against the previous window."""
    if now is None:
        return "–"
    text = shown(now)
    if before is None:
        return f"{text} (new)" if now else text
    diff = now - before
    if abs(diff) < 1e-9:
        return f"{text} (=)"
    sign = "+" if diff > 0 else "−"
    return f"{text} ({sign}{(change or shown)(abs(diff))})"


def _percent(share: float) -> str:
    return f"{share:.0%}"


def _points(share: float) -> str:
    return f"{share * 100:.0f} pts"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _field(title: str, body: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=f"*{title}*\n{body}"[:FIELD_LIMIT])


def _table(now: dict[str, int], before: dict[str, int]) -> str:
    if not now:
        return "–"
    return "\n".join(f"{k.title()} {versus(v, before.get(k, 0), _count)}" for k, v in now.items())


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%a %d %b %H:%M")


def blocks(view: DigestView) -> list[dict[str, Any]]:
    """The digest message. At most a dozen blocks, each well under its limit."""
    cur, prev = view.current, view.previous
    out: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=f"Digest: {view.name}"[:150])),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{_local(cur.start, view.zone)} → {_local(cur.end, view.zone)} "
                    f"({view.zone.key}) · (±n) compares with the previous {span(view.window)}"
                )
            ]
        ),
    ]
    if cur.empty:
        quiet = (
            "*All quiet.* No conversations, approvals, escalations or incidents in the last "
            f"{span(view.window)}."
        )
        out.append(SectionBlock(text=MarkdownTextObject(text=quiet)))
    else:
        out += _conversation_blocks(cur, prev)
        out += _approval_blocks(cur, prev)
    if view.open_items:
        out.append(_open_block(view))
    if not cur.empty:
        out += _topic_and_usage_blocks(cur, prev)
        out.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="New conversations per route per day: chart in the thread."
                    )
                ]
            )
        )
    assert len(out) <= BLOCK_LIMIT
    return [b.to_dict() for b in out]


def _conversation_blocks(cur: WindowFigures, prev: WindowFigures) -> list[Block]:
    c, p = cur.conversations, prev.conversations
    return [
        SectionBlock(
            fields=[
                _field("Conversations", versus(c.total, p.total, _count)),
                _field("Resolved", versus(c.resolved, p.resolved, _count)),
                _field("Escalated", versus(c.escalated, p.escalated, _count)),
                _field(
                    "Waiting on approval", versus(c.waiting_approval, p.waiting_approval, _count)
                ),
                _field("By route", _table(c.by_route, p.by_route)),
                _field("By specialist", _table(c.by_specialist, p.by_specialist)),
                _field("First reply p50", versus(c.first_reply_p50, p.first_reply_p50, duration)),
                _field("First reply p95", versus(c.first_reply_p95, p.first_reply_p95, duration)),
                _field("Corrected turns", versus(cur.corrected, prev.corrected, _count)),
                _field("Model cost", versus(_cost(cur), _cost(prev), money)),
            ]
        ),
        DividerBlock(),
    ]


def _cost(figures: WindowFigures) -> float:
    """What the window's turns cost in model calls (every call of each turn, the router's too)."""
    return sum(u.cost_usd for u in figures.usage)


def _approval_blocks(cur: WindowFigures, prev: WindowFigures) -> list[Block]:
    a, b = cur.approvals, prev.approvals
    return [
        SectionBlock(
            fields=[
                _field("Approvals requested", versus(a.requested, b.requested, _count)),
                _field("Approved", versus(a.approved, b.approved, _count)),
                _field("Rejected", versus(a.rejected, b.rejected, _count)),
                _field("Expired", versus(a.expired, b.expired, _count)),
                _field(
                    "Median time to a decision",
                    versus(a.median_decision_seconds, b.median_decision_seconds, duration),
                ),
                _field(
                    "Opened",
                    f"{versus(cur.incidents_opened, prev.incidents_opened, _count)} incidents\n"
                    f"{versus(cur.escalations_opened, prev.escalations_opened, _count)} "
                    "escalations",
                ),
            ]
        ),
        DividerBlock(),
    ]


def _open_block(view: DigestView) -> Block:
    lines = [f"*Open escalations and incidents* ({view.open_total})"]
    for item in view.open_items:
        name = (
            f"Incident #{item.id} {item.label}"
            if item.kind == "incident"
            else f"Escalation #{item.id}"
        )
        title = escape(item.title[:80])
        link = view.links.get((item.channel, item.thread_ts))
        label = f"<{link}|{name}: {title}>" if link else f"{name}: {title} (<#{item.channel}>)"
        lines.append(f"• {label} · since {_local(item.created_at, view.zone)}")
    if view.open_total > len(view.open_items):
        lines.append(f"… and {view.open_total - len(view.open_items)} more")
    return SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:SECTION_LIMIT]))


def _topic_and_usage_blocks(cur: WindowFigures, prev: WindowFigures) -> list[Block]:
    topics = " · ".join(
        f"{escape(word)} {versus(share, prev.topics.share(word), _percent, _points)}"
        for word, share in cur.topics.top()
    )
    before = {u.agent: u for u in prev.usage}
    lines = []
    for u in cur.usage:
        old = before.get(u.agent)
        tokens = versus(u.tokens, old.tokens if old else 0, _count)
        cost = versus(u.cost_usd, old.cost_usd if old else 0.0, money)
        lines.append(f"• {u.agent.title()}: {tokens} tokens, {cost}")
    total_now = sum(u.cost_usd for u in cur.usage)
    total_before = sum(u.cost_usd for u in prev.usage)
    tokens_now = sum(u.tokens for u in cur.usage)
    tokens_before = sum(u.tokens for u in prev.usage)
    lines.append(
        f"*Total: {versus(tokens_now, tokens_before, _count)} tokens, "
        f"{versus(total_now, total_before, money)}*"
    )
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*Top topics* (share of new conversations)\n{topics or '–'}"[:SECTION_LIMIT]
            )
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text=("*LLM usage by agent*\n" + "\n".join(lines))[:SECTION_LIMIT]
            )
        ),
    ]


def fallback_text(view: DigestView) -> str:
    """The notification and screen-reader text: the headline figures in one line."""
    c, p = view.current.conversations, view.previous.conversations
    if view.current.empty:
        return f"Digest {view.name}: all quiet, nothing happened in the last {span(view.window)}."
    cost = versus(_cost(view.current), _cost(view.previous), money)
    return (
        f"Digest {view.name}: {versus(c.total, p.total, _count)} conversations, "
        f"{c.resolved} resolved, {c.escalated} escalated, {c.waiting_approval} waiting on "
        f"approval; {view.open_total} open escalations and incidents; model cost {cost}."
    )[:3900]


def alt_text(daily: DailyRoutes, zone: ZoneInfo) -> str:
    """What the chart shows, in words, for people who cannot see it."""
    if not daily.days:
        return "No conversations to chart."
    first, last = daily.days[0].astimezone(zone), daily.days[-1].astimezone(zone)
    totals = ", ".join(f"{r.title()} {sum(c)}" for r, c in daily.counts.items()) or "none"
    per_day = [sum(c[i] for c in daily.counts.values()) for i in range(len(daily.days))]
    text = (
        f"Stacked bar chart of new conversations per route per day, {first:%d %b} to {last:%d %b} "
        f"({zone.key}). In all: {totals}."
    )
    if any(per_day):
        busiest = max(range(len(per_day)), key=lambda i: per_day[i])
        day = daily.days[busiest].astimezone(zone)
        text += f" Busiest day: {day:%a %d %b} with {per_day[busiest]}."
    return text[:ALT_LIMIT]


def chart_png(daily: DailyRoutes, zone: ZoneInfo, title: str) -> bytes:
    """A stacked bar chart of conversations per route per day, as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(8, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(daily.days)))
    bottom = [0] * len(positions)
    spare = iter(OTHER_COLORS * 4)
    for route, counts in daily.counts.items():
        color = COLORS.get(route) or next(spare)
        axes.bar(positions, counts, bottom=bottom, label=route.title(), color=color, width=0.7)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    labels = [d.astimezone(zone).strftime("%a\n%d %b") for d in daily.days]
    axes.set_xticks(positions, labels, fontsize=8)
    axes.set_ylabel("new conversations")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(title)
    axes.spines[["top", "right"]].set_visible(False)
    if daily.counts:
        axes.legend(loc="upper left", fontsize=8, frameon=False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
