"""`switchboard route`, `switchboard eval routing` and `switchboard chat`: the brain, no Slack."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import IO

import click

from agents.llm import LLM
from agents.runner import Runner
from bot.cli_support import fail, run_async, settings_of, user_errors
from bot.wiring import (
    approval_rules,
    build_agents,
    decider_for,
    llm_settings,
    supervisor_settings,
)
from router.classifier import ClassifierError, parse_examples
from router.evaluation import render_report, score
from router.supervisor import Supervisor
from router.turn import Turn
from storage import migrate
from storage.database import connected
from storage.store import Store


def _texts(stream: IO[str]) -> list[str]:
    texts = []
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            texts.append(str(record["text"]))
        except (ValueError, KeyError, TypeError):
            fail(f'{stream.name}: line {number} is not a JSON object with a "text" field')
    return texts


@click.command()
@click.argument("text", required=False)
@click.option(
    "--jsonl",
    type=click.File("r"),
    help='Route every line\'s "text"; one JSON object out per line.',
)
@click.pass_context
@user_errors
@run_async
async def route(ctx: click.Context, text: str | None, jsonl: IO[str] | None) -> None:
    """Print the route decision for TEXT as JSON (or for each line of a JSONL file)."""
    if (text is None) == (jsonl is None):
        fail("give either TEXT or --jsonl FILE")
    decider = decider_for(settings_of(ctx), LLM(llm_settings(settings_of(ctx))))
    if text is not None:
        click.echo(json.dumps((await decider.decide(text)).as_json(), indent=2))
        return
    assert jsonl is not None
    for line_text in _texts(jsonl):
        decision = await decider.decide(line_text)
        click.echo(json.dumps({"text": line_text, **decision.as_json()}))


@click.group("eval")
def evaluate() -> None:
    """Measure the product on labelled data."""


@evaluate.command("routing")
@click.option("--jsonl", type=click.File("r"), required=True, help='Lines with "text" and "route".')
@click.option("--misses", type=int, default=10, show_default=True, help="How many misses to list.")
@click.pass_context
@user_errors
@run_async
async def eval_routing(ctx: click.Context, jsonl: IO[str], misses: int) -> None:
    """Accuracy, per-route precision and recall, and the confusion matrix of the router."""
    try:
        examples = parse_examples(jsonl.read().splitlines(), jsonl.name)
    except ClassifierError as exc:
        fail(str(exc))
    decider = decider_for(settings_of(ctx), LLM(llm_settings(settings_of(ctx))))
    decisions = [await decider.decide(e.text) for e in examples]
    report = score(
        [e.text for e in examples],
        [e.route for e in examples],
        [d.primary.route for d in decisions],
        [d.confidence for d in decisions],
    )
    click.echo(render_report(report, show_misses=misses))


class TerminalNotifier:
    """In a terminal there is no on-call channel: show what would have been posted."""

    async def post(self, channel: str, text: str) -> str:
        click.echo(click.style(f"[would post to {channel}] {text}", fg="yellow"))
        return "terminal"


@click.command()
@click.option(
    "--thread", default=None, help="Continue a conversation by name (default: a new one)."
)
@click.option(
    "--user", default="U_TERMINAL", show_default=True, help="Who you are in the conversation."
)
@click.pass_context
@user_errors
@run_async
async def chat(ctx: click.Context, thread: str | None, user: str) -> None:
    """Talk to the supervisor in this terminal; memory is kept in the database."""
    settings = settings_of(ctx)
    logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))  # a conversation
    db = await connected(settings.env.database_url)
    await migrate.upgrade(db)
    store = Store.over(db)
    runner = Runner(LLM(llm_settings(settings)))
    supervisor = Supervisor(
        store,
        build_agents(settings, store, TerminalNotifier()),
        runner,
        decider_for(settings, runner.llm),
        approval_rules(settings),
        supervisor_settings(settings),
    )
    key = thread or f"chat-{uuid.uuid4().hex[:8]}"
    click.echo(f"Conversation {key!r}. Empty line or Ctrl-D to quit.")
    try:
        for n in range(1_000_000):
            try:
                line = await asyncio.to_thread(input, "you> ")
            except EOFError:
                break
            if not line.strip():
                break
            turn = Turn(
                "T_TERMINAL", "terminal", key, user, line, f"{n}", f"{key}-{uuid.uuid4().hex[:8]}"
            )
            reply = await supervisor.handle(turn)
            decision = reply.decision
            click.echo(
                click.style(
                    f"[{reply.agent} · {decision.source} {decision.confidence:.2f}]", fg="cyan"
                )
            )
            click.echo(reply.text)
            for approval in reply.approvals:
                click.echo(
                    click.style(
                        f"approval {approval.id} is waiting: {approval.summary}", fg="yellow"
                    )
                )
    finally:
        await store.close()
