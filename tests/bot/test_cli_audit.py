"""`switchboard audit` prints an approval's or a thread's history in order."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.cli.audit import parse_thread
from storage.approvals import NewApproval
from storage.columns import utcnow
from storage.store import Store
from tests.helpers.cli import switchboard


def test_permalinks_and_timestamps_are_understood() -> None:
    assert parse_thread("https://acme.slack.com/archives/C0SUPPORT/p1732190000000100") == (
        "C0SUPPORT",
        "1732190000.000100",
    )
    reply = "https://acme.slack.com/archives/C0SUPPORT/p1732190099000200?thread_ts=1732190000.000100&cid=C0SUPPORT"
    assert parse_thread(reply) == ("C0SUPPORT", "1732190000.000100")
    assert parse_thread("1732190000.000100") == (None, "1732190000.000100")


async def test_history_of_an_approval_and_of_its_thread(
    sqlite_store: Store, sqlite_url: str, tmp_path: Path
) -> None:
    approval = await sqlite_store.approvals.create(
        NewApproval(
            channel="C0SUPPORT",
            thread_ts="1732190000.000100",
            agent="billing",
            tool="issue_refund",
            arguments={"invoice": "INV-1"},
            summary="Refund $1.00",
            rationale="",
            requester="U0BOB",
            approvers=["S0SUPLEADS"],
            expires_at=utcnow() + timedelta(hours=1),
        )
    )
    for actor, action in [
        ("billing", "approval.requested"),
        ("U0CARA", "approval.click_refused"),
        ("U0ALICE", "approval.approved"),
    ]:
        await sqlite_store.audit.append(
            actor=actor, action=action, subject=f"approval:{approval.id}"
        )
    await sqlite_store.audit.append(
        actor="supervisor",
        action="turn.deadline_exceeded",
        subject="thread:C0SUPPORT:1732190000.000100",
    )
    env = {"DATABASE_URL": sqlite_url}
    by_approval = switchboard("audit", "--approval", approval.id, env=env, cwd=tmp_path)
    assert by_approval.returncode == 0, by_approval.stderr
    actions = [line.split()[3] for line in by_approval.stdout.splitlines()]
    assert actions == ["approval.requested", "approval.click_refused", "approval.approved"]
    link = "https://acme.slack.com/archives/C0SUPPORT/p1732190000000100"
    by_thread = switchboard("audit", "--thread", link, env=env, cwd=tmp_path)
    assert by_thread.returncode == 0, by_thread.stderr
    assert len(by_thread.stdout.splitlines()) == 4 and "turn.deadline_exceeded" in by_thread.stdout
    nothing = switchboard("audit", "--approval", "apv_missing", env=env, cwd=tmp_path)
    assert nothing.returncode == 2 and nothing.stderr.startswith(
        "switchboard: nothing in the audit log"
    )
