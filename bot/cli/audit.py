"""`switchboard audit`: the history of an approval or a thread, in the order it happened."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

import click

from bot.cli.support import fail, run_async, settings_of, user_errors
from storage.database import connected
from storage.store import Store
from storage.tables import AuditEntry

_PERMALINK = re.compile(r"/archives/(?P<channel>[A-Z0-9]+)/p(?P<ts>\d{16})")


def parse_thread(value: str) -> tuple[str | None, str]:
    """A Slack permalink (channel and thread) or a bare ts like 1732190000.000100."""
    match = _PERMALINK.search(value)
    if match:
        query = parse_qs(urlparse(value).query)
        raw = match.group("ts")
        ts = query.get("thread_ts", [f"{raw[:10]}.{raw[10:]}"])[0]
        return match.group("channel"), ts
    if re.fullmatch(r"\d{10}\.\d{6}", value.strip()):
        return None, value.strip()
    fail(
        f"--thread: {value!r} is neither a Slack permalink nor a message ts like 1732190000.000100"
    )


def line(entry: AuditEntry) -> str:
    details = json.dumps(entry.details, default=str, sort_keys=True) if entry.details else ""
    when = f"{entry.at:%Y-%m-%d %H:%M:%S}Z"
    return f"{when}  {entry.actor:<14} {entry.action:<26} {entry.subject}  {details}"


@click.command()
@click.option("--approval", "approval_id", help="An approval id (apv_...).")
@click.option("--thread", "thread", help="A thread's permalink or ts.")
@click.pass_context
@user_errors
@run_async
async def audit(ctx: click.Context, approval_id: str | None, thread: str | None) -> None:
    """Print who did what, in order, for one approval or one thread."""
    if (approval_id is None) == (thread is None):
        fail("give either --approval ID or --thread PERMALINK_OR_TS")
    store = Store.over(await connected(settings_of(ctx).env.database_url))
    try:
        if approval_id is not None:
            subjects = [f"approval:{approval_id}"]
        else:
            assert thread is not None
            channel, ts = parse_thread(thread)
            approvals = await store.approvals.for_thread(channel, ts)
            channels = {channel} if channel else {a.channel for a in approvals}
            subjects = [f"thread:{c}:{ts}" for c in channels] + [
                f"approval:{a.id}" for a in approvals
            ]
        entries = await store.audit.history(subjects)
    finally:
        await store.close()
    if not entries:
        fail("nothing in the audit log for that")
    for entry in entries:
        click.echo(line(entry))
