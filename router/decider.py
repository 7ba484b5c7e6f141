"""The decision stages, cheapest first: rules, thread continuity, the fast classifier, the LLM.

The LLM is asked only when a model is configured and the fast classifier is below the
threshold, so most messages cost no model call to route. Without a model, a message below the
threshold gets one clarifying question instead of a guess. Two things are read from every
message whatever decides its route: a pasted log is boiled down to its error codes first
(`router.logs`), and a frustrated person ("third time I'm asking") always gets escalation
alongside, which offers them a human (`router.tone`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from router.classifier import Classifier, Prediction, detect_intents
from router.decision import RouteChoice, RouteDecision
from router.language import language
from router.llm_router import LLMRouter
from router.logs import condense
from router.rules import match_rule
from router.tone import frustration

INTAKE = "triage"
ESCALATION = "escalation"


@dataclass(frozen=True, kw_only=True)
class DeciderSettings:
    llm_threshold: float = 0.55
    topic_change: float = 0.8  # how sure a follow-up must be of another route to leave the thread's
    close_margin: float = 0.15  # top two routes this close: ask the runner-up as well
    close_ceiling: float = 0.6  # ... unless the top route is at least this sure


class Decider:
    def __init__(
        self,
        classifier: Classifier,
        settings: DeciderSettings | None = None,
        llm_router: LLMRouter | None = None,
    ) -> None:
        self.classifier = classifier
        self.settings = settings or DeciderSettings()
        self.llm_router = llm_router

    async def decide(self, text: str, current_agent: str | None = None) -> RouteDecision:
        said = condense(text).text
        decision = await self._route(said, current_agent)
        decision = replace(decision, language=language(said))
        upset = frustration(text)
        return decision if upset is None else _with_escalation(decision, upset)

    async def _route(self, text: str, current_agent: str | None) -> RouteDecision:
        ruled = match_rule(text)
        if ruled is not None:
            return ruled
        whole = self.classifier.predict(text)
        if current_agent is not None:
            stay = self._continuity(whole, current_agent)
            if stay is not None:
                return stay
        intents = detect_intents(self.classifier, text, whole=whole)
        if len(intents) > 1:
            return RouteDecision(
                routes=tuple(RouteChoice(p.route, p.confidence) for p in intents),
                source="classifier",
                reason="the message asks for "
                + " and ".join(f"{p.route} ({p.confidence:.2f})" for p in intents),
            )
        unsure = whole.confidence < self.settings.llm_threshold
        if unsure and self.llm_router is not None:
            asked = await self.llm_router.classify(text)
            if asked is not None:
                return asked
        return self._classified(whole, clarify=unsure and self.llm_router is None)

    def _continuity(self, whole: Prediction, current: str) -> RouteDecision | None:
        """Stay with the thread's specialist unless the message is confidently about another one.

        Triage is intake, not a topic: a vague follow-up ("ok, what next?") looks like triage to
        the classifier, and must not pull the thread away from the specialist handling it.
        """
        changes_topic = whole.route not in (current, INTAKE)
        if changes_topic and whole.confidence >= self.settings.topic_change:
            return None
        return RouteDecision(
            routes=(RouteChoice(current, whole.scores.get(current, 0.0)),),
            source="continuity",
            reason=f"follow-up in a thread {current} is handling"
            + (
                f" (classifier leaned {whole.route} {whole.confidence:.2f})"
                if whole.route != current
                else ""
            ),
        )

    def _classified(self, whole: Prediction, *, clarify: bool = False) -> RouteDecision:
        ranked = sorted(whole.scores.items(), key=lambda kv: kv[1], reverse=True)
        runner_up = RouteChoice(*ranked[1]) if len(ranked) > 1 else None
        close = (
            runner_up is not None
            and whole.confidence - runner_up.confidence < self.settings.close_margin
            and whole.confidence < self.settings.close_ceiling
        )
        return RouteDecision(
            routes=(RouteChoice(whole.route, whole.confidence),),
            source="classifier",
            reason=f"fast classifier: {whole.route} {whole.confidence:.2f}"
            + (f", {runner_up.route} {runner_up.confidence:.2f}" if runner_up else "")
            + ("; unsure, so it asks" if clarify else ""),
            runner_up=runner_up,
            second_opinion=close and not clarify,
            clarify=clarify,
        )


def _with_escalation(decision: RouteDecision, upset: str) -> RouteDecision:
    """Bring in escalation, which offers a person; it leads when nothing else is clearly asked."""
    reason = f"{decision.reason}; frustrated ({upset}), so escalation offers a person"
    routes = decision.routes
    if ESCALATION not in (c.route for c in routes):
        lead = decision.clarify or decision.primary.route == INTAKE
        added = RouteChoice(ESCALATION, 1.0 if lead else decision.confidence)
        kept = tuple(c for c in routes if c.route != INTAKE) if lead else routes
        routes = (added, *kept) if lead else (*routes, added)
    return replace(
        decision, routes=routes, upset=upset, clarify=False, second_opinion=False, reason=reason
    )
