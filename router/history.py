"""Reading a thread's history for the two cases that look back past the newest message.

An answer to the router's clarifying question is routed together with the question it answers,
and a corrected reply is re-run with exactly the history its question had.
"""

from __future__ import annotations

from typing import Any

from router.clarify import is_question
from storage.memory import Window
from storage.tables import Message


def before(messages: list[Message], message_id: int) -> tuple[list[dict[str, Any]], Message | None]:
    """The history before the question that reply `message_id` answered, and that question."""
    index = next((i for i, m in enumerate(messages) if m.id == message_id), len(messages))
    ask = next((i for i in range(index - 1, -1, -1) if messages[i].role == "user"), None)
    if ask is None:
        return [], None
    history = [
        {"role": m.role, "content": m.text}
        for m in messages[:ask]
        if m.role in ("user", "assistant")
    ]
    return history, messages[ask]


def after_question(window: Window, text: str) -> tuple[bool, str]:
    """An answer to the router's clarifying question is routed with what was first asked."""
    messages = window.messages
    if len(messages) < 2 or messages[-1].role != "assistant":
        return False, text
    if not is_question(messages[-1].text) or messages[-2].role != "user":
        return False, text
    return True, f"{messages[-2].text}\n{text}"


def history_of(window: Window) -> list[dict[str, Any]]:
    """The window as a model's messages: the summary first, then who said what."""
    history: list[dict[str, Any]] = []
    if window.summary:
        history.append(
            {"role": "system", "content": f"Summary of the thread so far: {window.summary}"}
        )
    history += [
        {"role": m.role, "content": m.text}
        for m in window.messages
        if m.role in ("user", "assistant")
    ]
    return history


def split_last_user(window: Window) -> tuple[list[dict[str, Any]], str]:
    """The history before the newest user message, and that message (a resumed turn's)."""
    history = history_of(window)
    for index in range(len(history) - 1, -1, -1):
        if history[index]["role"] == "user":
            return history[:index], str(history[index]["content"])
    return history, ""
