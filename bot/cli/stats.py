"""`switchboard stats`: what the bot did and what it cost, by channel and agent, and budget use.

It reads the database only (the same sums the budgets are checked against), so it answers the
same on any replica and needs no Slack token. `--json` prints one object for scripts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from agents.spend_budget import SpendBudgets, day_start, usd
from bot.cli.support import fail, run_async, settings_of, user_errors
from bot.config_file import parse_duration
from storage.database import connected
from storage.stats import Figures, Stats
from storage.store import Store

TOP = 10  # channels and threads shown under each budget

COLUMNS = ("turns", "replies", "calls", "tokens in", "tokens out", "cost", "approvals")


@click.command()
@click.option("--since", "since", default="7d", show_default=True, help="Window: 24h, 7d, 2w...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of tables.")
@click.pass_context
@user_errors
@run_async
async def stats(ctx: click.Context, since: str, as_json: bool) -> None:
    """Turns, routes, model calls, tokens, cost and approvals by channel and agent; budget use."""
    try:
        window = parse_duration(since)
    except ValueError as exc:
        fail(f"--since: {exc}")
    assert isinstance(window, timedelta)
    settings = settings_of(ctx)
    budgets = settings.file.budgets
    limits = SpendBudgets(
        budgets.per_channel_daily_usd, budgets.per_thread_usd, budgets.total_daily_usd
    )
    database = await connected(settings.env.database_url)
    store = Store.over(database)
    try:
        now = datetime.now(UTC)
        figures = await store.stats.since(now - window, now)
        use = await budget_use(store, limits)
    finally:
        await store.close()
    if as_json:
        click.echo(json.dumps(as_object(figures, use), indent=2))
    else:
        click.echo(as_text(figures, use, since))


async def budget_use(store: Store, budgets: SpendBudgets) -> dict[str, Any]:
    """Each configured budget: its limit, what was spent against it, and whether it is spent."""
    use: dict[str, Any] = {}
    today = day_start()
    if budgets.total_daily_usd is not None:
        _, spent = await store.costs.since(today)
        use["total_daily_usd"] = _against(budgets.total_daily_usd, spent)
    if budgets.per_channel_daily_usd is not None:
        limit = budgets.per_channel_daily_usd
        use["per_channel_daily_usd"] = {
            "limit_usd": limit,
            "channels": [
                {"channel": s.channel, **_against(limit, s.cost_usd)}
                for s in await store.costs.top_channels(today, limit=TOP)
            ],
        }
    if budgets.per_thread_usd is not None:
        limit = budgets.per_thread_usd
        use["per_thread_usd"] = {
            "limit_usd": limit,
            "threads": [
                {"channel": s.channel, "thread_ts": s.thread_ts, **_against(limit, s.cost_usd)}
                for s in await store.costs.top_threads(limit=TOP)
            ],
        }
    return use


def _against(limit: float, spent: float) -> dict[str, Any]:
    return {
        "limit_usd": limit,
        "spent_usd": round(spent, 8),
        "used": round(spent / limit, 4) if limit > 0 else None,
        "reached": spent >= limit,
    }


def as_object(figures: Stats, use: dict[str, Any]) -> dict[str, Any]:
    return {
        "since": figures.since.isoformat(),
        "until": figures.until.isoformat(),
        "total": figures.total.as_json(),
        "by_channel": {k: v.as_json() for k, v in figures.by_channel.items()},
        "by_agent": {k: v.as_json() for k, v in figures.by_agent.items()},
        "by_model": {k: v.as_json() for k, v in figures.by_model.items()},
        "by_day": {k: v.as_json() for k, v in figures.by_day.items()},
        "by_thread": {k: v.as_json() for k, v in figures.by_thread.items()},
        "routes": [{"route": r, "source": s, "turns": n} for r, s, n in figures.routes],
        "approvals": figures.approvals_by_status,
        "budgets": use,
    }


def _cells(f: Figures) -> tuple[str, ...]:
    return (
        str(f.turns),
        str(f.replies),
        str(f.model_calls),
        f"{f.input_tokens:,}",
        f"{f.output_tokens:,}",
        f"${f.cost_usd:,.6f}",
        str(f.approvals),
    )


def _table(title: str, rows: dict[str, Figures]) -> list[str]:
    if not rows:
        return [title, "  (nothing)"]
    width = max(12, *(len(k) for k in rows))
    head = "  " + "".ljust(width) + "".join(c.rjust(12) for c in COLUMNS)
    body = [
        "  " + key.ljust(width) + "".join(c.rjust(12) for c in _cells(row))
        for key, row in rows.items()
    ]
    return [title, head, *body]


def as_text(figures: Stats, use: dict[str, Any], since: str) -> str:
    lines = [
        f"Switchboard, the last {since}: {figures.since:%Y-%m-%d %H:%M} to "
        f"{figures.until:%Y-%m-%d %H:%M} UTC",
        "",
        *_table("Total", {"all": figures.total}),
        "",
        *_table("By channel", figures.by_channel),
        "",
        *_table("By agent (router: the LLM route classifier)", figures.by_agent),
        "",
        *_table("By model", figures.by_model),
        "",
        *_table("Costliest threads (channel and thread ts)", figures.by_thread),
        "",
        "Routes (turns by route and what decided it)",
        *(f"  {route} ({source}): {n}" for route, source, n in figures.routes),
        "",
        "Cost by day (UTC)",
        *(
            f"  {day}: ${f.cost_usd:,.6f} in {f.model_calls} model calls"
            for day, f in figures.by_day.items()
        ),
        "",
        "Approvals asked for: "
        + (", ".join(f"{n} {s}" for s, n in sorted(figures.approvals_by_status.items())) or "none"),
        "",
        *_budget_lines(use),
    ]
    return "\n".join(lines).rstrip()


def _budget_lines(use: dict[str, Any]) -> list[str]:
    if not use:
        return ["Budgets: none configured ([budgets] in switchboard.toml)"]
    lines = ["Budgets (today is the UTC day)"]
    if "total_daily_usd" in use:
        lines.append(f"  total_daily_usd: {_shown(use['total_daily_usd'])}")
    if "per_channel_daily_usd" in use:
        channels = use["per_channel_daily_usd"]
        lines.append(f"  per_channel_daily_usd ({usd(channels['limit_usd'])}), today:")
        lines += [f"    {c['channel']}: {_shown(c)}" for c in channels["channels"]] or ["    none"]
    if "per_thread_usd" in use:
        threads = use["per_thread_usd"]
        lines.append(f"  per_thread_usd ({usd(threads['limit_usd'])}), the costliest threads:")
        lines += [
            f"    {t['channel']} {t['thread_ts']}: {_shown(t)}" for t in threads["threads"]
        ] or ["    none"]
    return lines


def _shown(entry: dict[str, Any]) -> str:
    spent = f"${entry['spent_usd']:,.6f} of {usd(entry['limit_usd'])}"
    if entry["reached"]:
        return f"{spent}, spent (the offline model answers)"
    return f"{spent} ({entry['used']:.0%})"
