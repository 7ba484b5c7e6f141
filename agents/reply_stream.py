"""A reply streamed as the model writes it, one vetted sentence at a time.

A model's words must not reach people before the check that a reply only claims what the tools
did (`agents.claims`). So the text a provider streams is held until a sentence is complete;
each sentence is then checked against the effects the turn's tools have carried out *so far*
(stricter than the check at the end of the turn, which knows every effect) and, once the turn
has asked for approval, sentences about approval give way to the state the supervisor states.
A sentence that passes goes to the `ReplySink` (bot/ writes it to Slack); one that does not is
never shown. What was shown is kept: it is the reply's text, so Slack and the thread's memory
agree.

An attempt that fails after some of its sentences were shown (a stream cut off, then a retry
or a fallback model) cannot be taken back: the reply says it was cut off and goes on.
Text a model writes before calling tools ("Let me look that up.") streams like any other.
An answer that arrives whole (the offline model) streams only if the reply already started.
"""

from __future__ import annotations

import re
from typing import Protocol

from agents.claims import keep_backed

CUT_OFF = "_(The answer above was cut off; here it is again.)_"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n")


class ReplySink(Protocol):
    """Where a turn's progress goes: what the bot is doing, and the reply's vetted text."""

    async def status(self, words: str) -> None:
        """What the bot is doing now, e.g. "is checking invoice INV-1024…"."""

    async def text(self, chunk: str) -> None:
        """More of the reply, already vetted; chunks are shown in order, joined as given."""


class VettedStream:
    """One turn's reply text on its way to a sink, sentence by sentence, checked."""

    def __init__(self, sink: ReplySink, *, opening: str = "") -> None:
        self.sink = sink
        self.opening = opening  # our own words that open the reply, once it starts
        self.shown = ""  # everything the sink was given, in order
        self.removed = False  # a sentence claiming an effect nobody carried out was dropped
        self.done: set[str] = set()  # effect kinds the turn's tools carried out so far
        self.pending = False  # the turn asked for approval
        self._held = ""  # the sentence being written
        self._attempt_shown = False  # this attempt of the model showed something
        self._new_paragraph = False

    @property
    def started(self) -> bool:
        return bool(self.shown)

    async def status(self, words: str) -> None:
        await self.sink.status(words)

    def note_effect(self, kind: str) -> None:
        self.done.add(kind)

    def note_pending(self) -> None:
        self.pending = True

    # ----- what the LLM layer calls (agents.llm.Listener) -------------------------------
    async def delta(self, text: str) -> None:
        self._held += text
        ends = [m.end() for m in _SENTENCE_END.finditer(self._held)]
        if not ends:
            return
        complete, self._held = self._held[: ends[-1]], self._held[ends[-1] :]
        await self._vet(complete)

    async def restart(self) -> None:
        self._held = ""
        if self._attempt_shown:
            await self._show(f"\n\n{CUT_OFF}\n\n")
            self._attempt_shown = False

    # ----- what the agent loop calls -----------------------------------------------------
    async def step_done(self, content: str | None, *, streamed: bool) -> None:
        """A model step ended. An answer that came whole is shown only if the reply started."""
        if not streamed and content and self.started:
            self._held += content
        if self._held:
            await self._vet(self._held)
            self._held = ""
        self._attempt_shown = False
        self._new_paragraph = self.started

    async def _vet(self, text: str) -> None:
        position = 0
        for match in [*_SENTENCE_END.finditer(text), None]:
            end = match.start() if match else len(text)
            sentence, gap = text[position:end], match.group(0) if match else ""
            position = match.end() if match else len(text)
            if not sentence.strip():
                if "\n" in gap and self.shown:
                    await self._show(gap)
                continue
            kept, removed = keep_backed(sentence, self.done, self.pending)
            self.removed = self.removed or removed
            if kept:
                await self._show(sentence + gap)
                self._attempt_shown = True

    async def _show(self, text: str) -> None:
        if not self.shown and self.opening and text.strip():
            self.shown = self.opening.strip()
            self._new_paragraph = True
            await self.sink.text(self.shown)
        if not self.shown:
            text = text.lstrip()
        elif self._new_paragraph and text.strip():
            text = "\n\n" + text.lstrip()
        if not text:
            return
        self._new_paragraph = False
        self.shown += text
        await self.sink.text(text)
