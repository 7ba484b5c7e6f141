"""Messages as people send them: logs, frustration, other languages, unclear and mixed requests.

The supervisor runs on offline agents that echo what they were given, over a real SQLite store.
"""

from __future__ import annotations

from typing import Any

import pytest

from agents.agent import Agent
from agents.llm import LLM, LLMSettings
from agents.offline import OfflineRequest, OfflineStep
from agents.runner import Runner
from router.approvals import ApprovalRules
from router.clarify import PREFIX, is_question
from router.classifier import FastClassifier
from router.decider import Decider
from router.language import language
from router.logs import condense
from router.supervisor import Supervisor
from router.tone import frustration
from router.training import default_classifier
from router.turn import Reply, Turn
from storage.store import Store

ROUTES = ("triage", "billing", "technical", "escalation")
SSO_LOG = """SSO login fails for the whole sales team, log below
2026-11-20T10:01:02Z ERROR auth.callback request_id=ab12 err=invalid_grant status=400 msg="token exchange failed"
2026-11-20T10:01:05Z ERROR auth.callback request_id=ab13 err=invalid_grant status=400
2026-11-20T10:01:09Z WARN auth.retry attempt=2 user=u_123"""


@pytest.fixture(scope="session")
def classifier() -> FastClassifier:
    return default_classifier()


def echo(route: str) -> Any:
    def policy(request: OfflineRequest) -> OfflineStep:
        return OfflineStep(text=f"{route} saw: {request.user_text}")

    return policy


class Desk:
    """The four routes as offline agents that repeat what they were handed."""

    def __init__(self, store: Store, classifier: FastClassifier) -> None:
        agents = {
            r: Agent(name=r, description=r, instructions=f"You are {r}.", tools=(), policy=echo(r))
            for r in ROUTES
        }
        llm = LLM(LLMSettings(retries=0, timeout=5))
        self.supervisor = Supervisor(
            store, agents, Runner(llm), Decider(classifier), ApprovalRules()
        )
        self.count = 0

    async def say(self, text: str, thread: str = "1.0") -> Reply:
        self.count += 1
        turn = Turn(
            team_id="T1",
            channel="C1",
            thread_ts=thread,
            user_id="U1",
            text=text,
            ts=f"{thread}{self.count}",
            event_id=f"Ev{self.count}",
        )
        return await self.supervisor.handle(turn)


def test_a_pasted_log_becomes_its_error_codes() -> None:
    condensed = condense(SSO_LOG)
    assert condensed.codes == ("invalid_grant (2×)", "HTTP 400 (2×)")
    assert condensed.messages == ("token exchange failed",)
    assert condensed.text.startswith("SSO login fails for the whole sales team, log below\n")
    assert "request_id" not in condensed.text
    trace = 'export crashes\nTraceback (most recent call last):\n  File "a.py", line 3, in run\n'
    trace += "    raise TimeoutError('upstream timed out')\nTimeoutError: upstream timed out"
    assert condense(trace).text == (
        "export crashes\nFrom the pasted log: error codes TimeoutError (2×) and messages "
        '"upstream timed out".'
    )
    assert condense("I was charged twice.\nPlease help.") == condense(
        "I was charged twice.\nPlease help."
    )
    assert not condense("I was charged twice.\nPlease help.").had_log


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("this is the third time I'm asking, nobody helps!!", "asked before"),
        ("I have written to you three times already", "asked before"),
        ("nobody ever answers my emails", "feels ignored"),
        ("my account is still not unlocked, WHY", "asked before"),
        ("I WANT MY MONEY BACK NOW", "all caps"),
        ("es la tercera vez que escribo", "asked before"),
        ("niemand hilft mir", "feels ignored"),
        ("refund pls", None),
        ("Can you check INV-1024? Thanks!", None),
    ],
)
def test_frustration(text: str, why: str | None) -> None:
    assert frustration(text) == why


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Hola, no puedo acceder a mi cuenta", "es"),
        ("Olá, não consigo entrar na minha conta", "pt"),
        ("Bonjour, je ne peux pas me connecter à mon compte", "fr"),
        ("Ich kann mich nicht in mein Konto einloggen", "de"),
        ("I can't log in to my account", "en"),
        ("SSO invalid_grant", "en"),
    ],
)
def test_language(text: str, code: str) -> None:
    assert language(text) == code


async def test_the_specialist_sees_the_log_boiled_down(
    sqlite_store: Store, classifier: FastClassifier
) -> None:
    reply = await Desk(sqlite_store, classifier).say(SSO_LOG)
    assert reply.agent == "technical"
    assert "err=invalid_grant" not in reply.text
    assert "error codes invalid_grant (2×), HTTP 400 (2×)" in reply.text


async def test_frustration_is_acknowledged_and_offered_a_person(
    sqlite_store: Store, classifier: FastClassifier
) -> None:
    reply = await Desk(sqlite_store, classifier).say(
        "this is the third time I'm asking, nobody helps!!"
    )
    assert reply.agent == "escalation"
    assert reply.text.startswith("I'm sorry you've had to ask more than once.")
    assert "a person picks this up" in reply.text
    assert reply.decision.upset == "asked before"


async def test_frustration_about_a_topic_keeps_the_topic_and_adds_escalation(
    sqlite_store: Store, classifier: FastClassifier
) -> None:
    reply = await Desk(sqlite_store, classifier).say(
        "I was charged twice AGAIN, this is the third time I'm writing about my invoice!!"
    )
    assert [c.route for c in reply.decision.routes] == ["billing", "escalation"]
    assert {p.agent for p in reply.parts} == {"billing", "escalation"}


async def test_other_languages_are_routed_by_meaning_with_one_line_about_english(
    sqlite_store: Store, classifier: FastClassifier
) -> None:
    desk = Desk(sqlite_store, classifier)
    reply = await desk.say("Hola, no puedo acceder a mi cuenta")
    assert (reply.agent, reply.decision.language) == ("technical", "es")
    assert reply.text.endswith(
        "_I can only answer in English for now: the offline model doesn't write Spanish._"
    )
    english = await desk.say("I can't log in to my account", thread="2.0")
    assert "English" not in english.text


async def test_mixed_request_fans_out_to_every_specialist_in_one_reply(
    sqlite_store: Store, classifier: FastClassifier
) -> None:
    reply = await Desk(sqlite_store, classifier).say("double charged and can't log in with SSO")
    assert {c.route for c in reply.decision.routes} == {"billing", "technical"}
    assert "*Billing:* billing saw:" in reply.text
    assert "*Technical:* technical saw:" in reply.text


async def test_unsure_without_a_model_asks_one_question_then_routes_the_answer(
    sqlite_store: Store, classifier: FastClassifier
) -> None:
    desk = Desk(sqlite_store, classifier)
    unclear = "any update?"
    first = classifier.predict(unclear)
    assert first.confidence < 0.55, first  # the premise: the classifier really is unsure
    reply = await desk.say(unclear)
    assert reply.decision.clarify
    assert reply.text.startswith(PREFIX) and is_question(reply.text)
    assert reply.text.count("?") == 1
    answer = await desk.say("it's about a refund for my invoice")
    assert answer.agent == "billing"
    assert "any update?" in answer.text  # routed with what was first asked
