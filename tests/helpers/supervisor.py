"""The supervisor on scripted models and a real store: four agents, a refund tool that counts
its runs, a lookup that never returns, wired as production wires them."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel

from agents.agent import Agent
from agents.llm import LLM, LLMSettings
from agents.offline import OfflineRequest, OfflineStep
from agents.routes import ROUTES
from agents.runner import Runner
from agents.testing import ScriptedModel, Step
from agents.tool import Risk, Tool, ToolContext
from router.approvals import ApprovalRules, Approvers
from router.classifier import FastClassifier
from router.decider import Decider
from router.supervisor import Supervisor, SupervisorSettings
from router.turn import Turn
from storage.store import Store


class RefundArgs(BaseModel):
    invoice: str
    amount_cents: int


class Refunds:
    def __init__(self) -> None:
        self.done: list[str] = []

    async def run(self, args: RefundArgs, ctx: ToolContext) -> dict[str, Any]:
        self.done.append(ctx.idempotency_key)
        return {"refund": "re_1"}


class LookupArgs(BaseModel):
    invoice: str


async def never_returns(args: LookupArgs, ctx: ToolContext) -> dict[str, Any]:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


def fallback_policy(request: OfflineRequest) -> OfflineStep:
    return OfflineStep(text="offline")


class World:
    """Four agents on scripted models, a store and a supervisor wired like production."""

    def __init__(
        self,
        store: Store,
        classifier: FastClassifier,
        tag: str,
        scripts: dict[str, list[Step]],
        **settings: Any,
    ) -> None:
        self.refunds = Refunds()
        self.models: dict[str, ScriptedModel] = {
            route: ScriptedModel(f"{tag}-{route}", scripts.get(route, [])) for route in ROUTES
        }
        refund = Tool(
            name="issue_refund",
            description="Refund.",
            args=RefundArgs,
            run=self.refunds.run,
            risk=Risk.HIGH,
            summarize=lambda a: f"Refund ${a.amount_cents / 100:.2f} for {a.invoice}",
        )
        slow = Tool(
            name="slow_lookup", description="Look up, slowly.", args=LookupArgs, run=never_returns
        )
        self.agents: dict[str, Agent] = {
            route: Agent(
                name=route,
                description=route,
                instructions=f"You are {route}.",
                tools=(refund, slow) if route == "billing" else (),
                policy=fallback_policy,
                model=self.models[route].model,
            )
            for route in ROUTES
        }
        llm = LLM(LLMSettings(retries=0, timeout=5, reserve=settings.pop("reserve", 2.0)))
        decider = Decider(
            classifier, settings.pop("decider", None), settings.pop("llm_router", None)
        )
        self.supervisor = Supervisor(
            store,
            self.agents,
            Runner(llm),
            decider,
            ApprovalRules(default=Approvers(users=("U_LEAD",))),
            SupervisorSettings(**settings),
        )
        self.store = store
        self.count = 0

    async def say(self, text: str, thread: str = "1.0") -> Any:
        self.count += 1
        turn = Turn(
            team_id="T1",
            channel="C1",
            thread_ts=thread,
            user_id="U_ASKER",
            text=text,
            ts=f"{thread}{self.count}",
            event_id=f"Ev{self.count}",
        )
        return await self.supervisor.handle(turn)

    def done(self) -> None:
        for model in self.models.values():
            model.assert_done()


def text(reply: str) -> OfflineStep:
    return OfflineStep(text=reply)
