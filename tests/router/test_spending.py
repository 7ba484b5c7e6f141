"""Money budgets in the supervisor, from the stored sums, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

from agents.metering import ModelCall
from agents.pricing import Price
from agents.spend_budget import SpendBudgets, day_start, notice
from router.classifier import FastClassifier
from router.supervisor import DEGRADED_NOTE
from storage.store import Store
from tests.helpers.supervisor import World, text

ASK = "I was charged twice for my subscription this month, can I get my money back?"


async def test_a_spent_thread_budget_keeps_the_thread_on_the_offline_model(
    store: Store, classifier: FastClassifier
) -> None:
    world = World(
        store,
        classifier,
        f"spend-{store.db.url.get_backend_name()}",
        {"billing": [text("Let me look."), text("In the other thread: looking.")]},
        budgets=SpendBudgets(per_thread_usd=0.001),
    )
    billing = world.models["billing"].model
    llm = world.supervisor.runner.llm
    llm.settings = replace(llm.settings, prices={billing: Price(1000.0, 1000.0)})

    first = await world.say(ASK, thread="1.0")
    assert first.budget is None and first.text == "Let me look."
    [paid] = first.calls
    assert isinstance(paid, ModelCall) and (paid.agent, paid.model) == ("billing", billing)
    assert paid.cost_usd > 0.001
    spent = await store.costs.spent("C1", "1.0", day_start())
    assert spent.thread == spent.channel_today == spent.total_today == paid.cost_usd
    message = await store.memory.message(first.message_id or 0)
    assert message is not None and message.cost_usd == paid.cost_usd  # stored with the message

    second = await world.say(ASK, thread="1.0")  # the thread's budget is spent
    assert second.budget is not None and second.budget.budget == "per_thread_usd"
    assert second.text.endswith(notice(second.budget)) and DEGRADED_NOTE not in second.text
    assert [c.model for c in second.calls] == ["offline/billing"]

    other = await world.say(ASK, thread="2.0")  # another thread has its own
    assert other.budget is None and other.text == "In the other thread: looking."
    world.done()  # the scripted model was asked exactly twice
