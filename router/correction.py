"""A person says a reply should have come from another specialist: record it, answer again.

The correction is recorded first and only once (a unique key per reply), so a double click
re-runs the turn once. The chosen specialist answers the same question with the same history,
in the same thread, and the thread continues with it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from agents.results import Turn
from router.decision import RouteChoice, RouteDecision
from router.errors import UnknownRecord
from router.history import before
from router.language import language
from router.logs import condense
from router.replies import annotated
from router.turn import Reply
from storage.corrections import NewCorrection

if TYPE_CHECKING:
    from router.supervisor import Supervisor


async def correct(
    supervisor: Supervisor, message_id: int, route: str, corrected_by: str
) -> Reply | None:
    """The reply to `message_id`'s question from `route`; None if it was corrected already."""
    store = supervisor.store
    answer = await store.memory.message(message_id)
    if answer is None or answer.role != "assistant" or route not in supervisor.agents:
        raise UnknownRecord(f"no reply {message_id} to correct to {route}")
    thread = await store.memory.get_thread(answer.thread_id)
    assert thread is not None and thread.id is not None
    history, asked = before(await store.memory.messages(thread.id), message_id)
    if asked is None:
        raise UnknownRecord(f"reply {message_id} answers no question")
    recorded = await store.corrections.record(
        NewCorrection(
            message_id=message_id,
            team_id=thread.team_id,
            channel=thread.channel,
            thread_ts=thread.thread_ts,
            text=asked.text,
            from_route=answer.agent or "",
            to_route=route,
            corrected_by=corrected_by,
        )
    )
    if recorded is None:
        return None
    await store.audit.append(
        actor=corrected_by,
        action="route.corrected",
        subject=f"thread:{thread.channel}:{thread.thread_ts}",
        details={"message": message_id, "from": answer.agent, "to": route},
    )
    turn = Turn(
        team_id=thread.team_id,
        channel=thread.channel,
        thread_ts=thread.thread_ts,
        user_id=asked.user_id or "",
        text=asked.text,
        ts="",
        event_id=f"correction-{recorded.id}",
    )
    decision = RouteDecision(
        routes=(RouteChoice(route, 1.0),),
        source="correction",
        reason=f"corrected by {corrected_by} from {answer.agent}",
        language=language(asked.text),
    )
    said = replace(turn, text=condense(asked.text).text)
    async with supervisor.spending(turn) as spent:
        ran = await supervisor.follow(route, said, history)
        reply = await supervisor.finish(turn, thread.id, decision, annotated([ran], decision), None)
    return spent.on(reply)
