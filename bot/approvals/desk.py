"""The approval desk: cards out, clicks in, exactly-once execution, expiry and reconciliation.

Every click is audited, allowed or not. A claim is a compare-and-set in the database, so a double
click, or the same click reaching two replicas, runs the tool once; the tool runs with the
approval id as its idempotency key. Cards, ephemeral answers and the agent's follow-up all go
through the outbox like every other message.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agents.results import ToolOutcome
from bot.approvals.approvers import GroupMembers, describe
from bot.approvals.cards import card_text, decided_card, pending_card
from bot.approvals.outcomes import DECIDED, expired_words, final_line, outcome_of
from bot.slack import tracing
from bot.slack.outbox import Sender
from bot.slack.render import attribution, reply_messages, safe_mrkdwn
from bot.slack.turns import DM_THREAD
from router.supervisor import Supervisor
from router.turn import Reply
from storage.approvals import Outcome
from storage.columns import utcnow
from storage.outbox import Outgoing
from storage.store import Store
from storage.tables import Approval, OutboxMessage

log = structlog.stdlib.get_logger(__name__)
RECENT = timedelta(days=2)  # how far back start-up looks for decisions left half-announced


def card_key(approval_id: str, what: str) -> str:
    """The outbox key of a card message: `post`, its `pointer`, or an update."""
    return f"card:{approval_id}:{what}"


def posted_card(key: str) -> str | None:
    """The approval whose card a posted outbox row is, if it is one (`card_key(id, "post")`)."""
    kind, _, rest = key.partition(":")
    approval_id, _, what = rest.rpartition(":")
    return approval_id if kind == "card" and what == "post" and approval_id else None


class ApprovalDesk:
    def __init__(
        self,
        store: Store,
        supervisor: Supervisor,
        sender: Sender,
        groups: GroupMembers,
        *,
        channel: str | None = None,
        client: AsyncWebClient | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.supervisor = supervisor
        self.sender = sender
        self.groups = groups
        self.channel = channel
        sender.watch(self.on_posted)

    # -- cards -----------------------------------------------------------------------------

    async def cards_for(self, reply: Reply) -> list[Outgoing]:
        """The card messages for a reply's approvals, to be queued together with the reply."""
        cards = []
        for pending in reply.approvals:
            approval = await self.store.approvals.get(pending.id)
            if approval is None:
                continue
            where = self.channel or approval.channel
            thread = None if self.channel else _thread(approval)
            link = (
                await self._permalink(approval.channel, approval.thread_ts)
                if self.channel
                else None
            )
            cards.append(
                Outgoing(
                    dedupe_key=card_key(approval.id, "post"),
                    channel=where,
                    text=card_text(approval),
                    blocks=pending_card(approval, link),
                    thread_ts=thread,
                )
            )
        return cards

    async def on_posted(self, row: OutboxMessage, ts: str) -> None:
        """A message Slack took: when it is one of our cards, record where it is."""
        approval_id = posted_card(row.dedupe_key)
        if approval_id is not None:
            await self.card_posted(approval_id, row.channel, ts)

    async def card_posted(self, approval_id: str, channel: str, ts: str) -> None:
        await self.store.approvals.set_card(approval_id, channel, ts)
        approval = await self.store.approvals.get(approval_id)
        if approval is None or channel == approval.channel:
            return
        # The card lives in the approvals channel: tell the conversation where to find it.
        link = await self._permalink(channel, ts)
        where = f"<{link}|the approvals channel>" if link else f"<#{channel}>"
        await self.store.outbox.enqueue(
            Outgoing(
                dedupe_key=card_key(approval.id, "pointer"),
                channel=approval.channel,
                text=f"Approval requested in {where}: {safe_mrkdwn(approval.summary)}",
                thread_ts=_thread(approval),
            )
        )
        self.sender.notify()

    async def _permalink(self, channel: str, ts: str) -> str | None:
        if self.client is None or ts == DM_THREAD:
            return None
        try:
            response = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
        except (SlackApiError, OSError):
            return None
        return str(response.get("permalink") or "") or None

    async def _update_card(self, approval: Approval, outcome: str, key: str) -> None:
        fresh = await self.store.approvals.get(approval.id) or approval
        if fresh.card_channel is None or fresh.card_ts is None:
            return
        await self.store.outbox.enqueue(
            Outgoing(
                dedupe_key=card_key(approval.id, key),
                channel=fresh.card_channel,
                text=f"{card_text(fresh)}: {outcome}",
                blocks=decided_card(fresh, outcome),
                kind="update",
                target_ts=fresh.card_ts,
            )
        )
        self.sender.notify()  # the decision shows at once, before the agent's follow-up

    async def _tell(self, approval: Approval, user: str, text: str, key: str) -> None:
        channel = approval.card_channel or approval.channel
        await self.store.outbox.enqueue(
            Outgoing(
                dedupe_key=f"eph:{approval.id}:{user}:{key}",
                channel=channel,
                text=text,
                kind="ephemeral",
                user_id=user,
                thread_ts=None if approval.card_channel != approval.channel else _thread(approval),
            )
        )
        self.sender.notify()

    # -- decisions ---------------------------------------------------------------------------

    @tracing.clicked("approve")  # a trace of its own, linked to the turn that asked
    async def approve(
        self, approval_id: str, user: str, click: str, card: tuple[str, str] | None = None
    ) -> str:
        approval = await self._clicked(approval_id, user, "approve", click, card)
        if isinstance(approval, str):
            return approval
        outcome = await self.store.approvals.approve(approval.id, user)
        await self._audit(user, f"approval.{outcome.value}", approval, {"click": click})
        if outcome is Outcome.EXPIRED:
            await self._expired(approval)
            return await self._say(approval, user, expired_words(approval), click)
        if outcome is Outcome.NOT_PENDING:
            return await self._say(approval, user, await self._already(approval), click)
        if outcome is Outcome.ALREADY_DECIDED:
            return await self._say(
                approval, user, "You have already approved this; it needs another approver.", click
            )
        if outcome is Outcome.RECORDED:
            count = sum(
                1
                for d in await self.store.approvals.decisions(approval.id)
                if d.decision == "approve"
            )
            needed = approval.required_approvals
            note = f"Approved by <@{user}> ({count} of {needed}); waiting for another approver."
            await self._note_on_card(approval, note, f"partial{count}")
            return await self._say(approval, user, "Recorded. Another approver is needed.", click)
        await self.execute(approval.id, approved_by=user)
        return "Approved."

    @tracing.clicked("reject")
    async def reject(
        self,
        approval_id: str,
        user: str,
        reason: str | None,
        click: str,
        card: tuple[str, str] | None = None,
    ) -> str:
        approval = await self._clicked(approval_id, user, "reject", click, card, requester_may=True)
        if isinstance(approval, str):
            return approval
        if not await self.store.approvals.reject(approval.id, user, reason):
            return await self._say(approval, user, await self._already(approval), click)
        await self._audit(user, "approval.rejected", approval, {"reason": reason})
        await self._settle(approval.id)
        return "Rejected."

    async def _already(self, approval: Approval) -> str:
        current = await self.store.approvals.get(approval.id)
        if current is not None and current.status == "expired":
            return expired_words(current)
        return f"This was already {current.status if current else 'decided'}."

    async def _expired(self, approval: Approval) -> None:
        """This caller moved the approval to expired: say so on the card and in the thread."""
        await self._audit("switchboard", "approval.expired", approval, {})
        await self._settle(approval.id)

    async def execute(self, approval_id: str, *, approved_by: str) -> ToolOutcome:
        """Run a claimed approval once, record it, update the card and let the agent reply."""
        approval = await self.store.approvals.get(approval_id)
        assert approval is not None
        outcome = await self.supervisor.carry_out(approval_id)
        action = "approval.executed" if outcome.status == "executed" else "approval.failed"
        await self._audit(
            approved_by, action, approval, {"output": outcome.output, "detail": outcome.detail}
        )
        await self._settle(approval_id)
        return outcome

    async def _settle(self, approval_id: str) -> None:
        """After a decision: the card's last line and the agent's follow-up, each once.

        Both come from the row, so a restart can finish what a crash interrupted: the card
        update is deduplicated by its outbox key, and the follow-up runs only if its first
        message was never queued.
        """
        approval = await self.store.approvals.get(approval_id)
        if approval is None or approval.status not in DECIDED:
            return
        line, key = final_line(approval)
        if await self.store.outbox.by_key(card_key(approval.id, key)) is None:
            await self._update_card(approval, line, key)
        if await self.store.outbox.by_key(f"resume:{approval.id}:0") is None:
            await self._resume(approval, outcome_of(approval))

    async def _clicked(
        self,
        approval_id: str,
        user: str,
        decision: str,
        click: str,
        card: tuple[str, str] | None,
        *,
        requester_may: bool = False,
    ) -> Approval | str:
        approval = await self.store.approvals.get(approval_id)
        if approval is not None and approval.card_ts is None and card is not None:
            # The post's ts may not have been recorded (a shutdown right after posting):
            # the click itself says where the card is.
            await self.store.approvals.set_card(approval.id, *card)
            approval = await self.store.approvals.get(approval_id)
        if approval is None:
            await self.store.audit.append(
                actor=user, action="approval.click_unknown", subject=f"approval:{approval_id}"
            )
            return "There is no such approval."
        await self._audit(user, f"approval.click_{decision}", approval, {"click": click})
        refusal = await self._refusal(approval, user, requester_may)
        if refusal is None:
            return approval
        await self._audit(
            user, "approval.click_refused", approval, {"reason": refusal, "decision": decision}
        )
        return await self._say(approval, user, refusal, click)

    async def may_decide(self, approval: Approval, user: str, decision: str) -> str | None:
        """Why `user` may not make `decision` on this approval, or None when they may.

        The rule the buttons and commands apply, for surfaces that must know before a click
        (the Home tab lists only what its viewer may decide; Reject asks for a reason only
        of someone who may reject). Nothing is recorded.
        """
        return await self._refusal(approval, user, requester_may=decision == "reject")

    async def _refusal(self, approval: Approval, user: str, requester_may: bool) -> str | None:
        if user == approval.requester:
            if requester_may:
                return None
            return "You asked for this, so someone else has to approve it."
        if not await self.groups.allowed(user, approval.approvers):
            who = describe(approval.approvers)
            return f"You are not allowed to decide this. It can be approved by {who}."
        return None

    async def _say(self, approval: Approval, user: str, text: str, click: str) -> str:
        await self._tell(approval, user, text, click)
        return text

    async def _note_on_card(self, approval: Approval, note: str, key: str) -> None:
        fresh = await self.store.approvals.get(approval.id) or approval
        if fresh.card_channel and fresh.card_ts:
            await self.store.outbox.enqueue(
                Outgoing(
                    dedupe_key=card_key(fresh.id, key),
                    channel=fresh.card_channel,
                    text=card_text(fresh),
                    blocks=pending_card(fresh, note=note),
                    kind="update",
                    target_ts=fresh.card_ts,
                )
            )
            self.sender.notify()

    async def _resume(self, approval: Approval, outcome: ToolOutcome) -> None:
        reply = await self.supervisor.resume(approval.id, outcome)
        context = attribution(reply.agent, "approval", 1.0, reply.degraded)
        await self.store.outbox.enqueue_many(
            [
                Outgoing(
                    dedupe_key=f"resume:{approval.id}:{index}",
                    channel=approval.channel,
                    text=text,
                    blocks=blocks,
                    thread_ts=_thread(approval),
                )
                for index, (text, blocks) in enumerate(reply_messages(reply.text, context))
            ]
        )
        self.sender.notify()

    async def _audit(
        self, actor: str, action: str, approval: Approval, details: dict[str, Any]
    ) -> None:
        await self.store.audit.append(
            actor=actor,
            action=action,
            subject=f"approval:{approval.id}",
            details={"thread": f"{approval.channel}:{approval.thread_ts}", **details},
        )

    # -- time and restarts ------------------------------------------------------------------

    async def expire_due(self) -> int:
        expired = await self.store.approvals.expire_due()
        for approval in expired:
            await self._expired(approval)
        return len(expired)

    async def sweep(self, every: float = 30.0) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.expire_due()
            except Exception:
                log.exception("approvals.sweep_failed")

    async def reconcile(self) -> None:
        """At start-up, finish what a crash interrupted, each step at most once.

        Approvals claimed but not known to have run: a tool whose side effect is keyed by the
        approval id (a ledger refund, a PagerDuty dedup key, the Slack pager's tag, an incident
        row) is run again with that key, which finds the earlier effect instead of repeating
        it. Any other tool is not run again: the approval is marked failed and the thread told.
        Decided approvals whose card or follow-up never went out get them now.
        """
        for approval in await self.store.approvals.in_status("approved"):
            agent = self.supervisor.agents.get(approval.agent)
            names = [str(c.get("tool")) for c in approval.calls or []] or [approval.tool]
            tools = [agent.tool(name) if agent else None for name in names]
            if all(t is not None and t.idempotent for t in tools):
                log.info("approvals.reconcile_rerun", approval_id=approval.id)
                await self.execute(approval.id, approved_by=approval.decided_by or "switchboard")
                continue
            detail = "interrupted by a restart before its result was recorded; not run again"
            if await self.store.approvals.mark_failed(approval.id, detail):
                await self._audit("switchboard", "approval.failed", approval, {"detail": detail})
                await self._settle(approval.id)
        for approval in await self.store.approvals.decided_since(utcnow() - RECENT):
            await self._settle(approval.id)


def _thread(approval: Approval) -> str | None:
    return None if approval.thread_ts == DM_THREAD else approval.thread_ts
