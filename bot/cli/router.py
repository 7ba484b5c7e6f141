"""`switchboard route`, `switchboard eval routing` and `switchboard chat`: the brain, no Slack.

Routing needs the classifier and the database, not the agents: litellm (seconds to import) is
loaded only by `chat`, or when a model is configured for LLM routing. Heavier modules are
imported inside the commands, after the settings are read, so `--help` and a configuration
mistake answer at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from bot.cli.support import fail, run_async, settings_of, user_errors
from bot.settings import Settings
from router.examples import ClassifierError, Example, load_default_examples, parse_examples

if TYPE_CHECKING:
    from router.decider import Decider

log = logging.getLogger(__name__)


async def stored_corrections(settings: Settings) -> list[Example]:
    """The corrections in the configured database; none when it does not exist or is behind.

    `switchboard route` must work in an empty folder (and create no database file there), so a
    missing SQLite file or an unreachable server just means there is nothing to learn from.
    """
    from storage import migrate
    from storage.database import Database
    from storage.store import Store
    from storage.urls import normalize_url

    url = normalize_url(settings.env.database_url)
    if url.get_backend_name() == "sqlite" and not await asyncio.to_thread(
        Path(url.database or "").is_file
    ):
        return []
    db = Database(settings.env.database_url)
    try:
        if await migrate.current(db) != migrate.head():
            return []
        rows = await Store.over(db).corrections.all()
    except Exception as exc:  # any failure to read only means routing without corrections
        log.warning("corrections unavailable (%s); routing on the shipped examples", exc)
        return []
    finally:
        await db.dispose()
    return [Example(row.text, row.to_route) for row in rows]


async def deployed_decider(settings: Settings) -> Decider:
    """The router as `switchboard run` would build it: the shipped examples and corrections.

    The LLM router joins only when a model is configured for routing, as in `bot.wiring`.
    """
    from bot.routing import classifier
    from router.decider import Decider, DeciderSettings

    trained = await asyncio.to_thread(classifier, settings, await stored_corrections(settings))
    router = settings.file.router
    model = router.model or settings.env.model
    if not model:
        return Decider(trained, DeciderSettings(llm_threshold=router.llm_threshold), None)
    from agents.llm import LLM
    from bot.wiring import decider_for, llm_settings

    return decider_for(settings, LLM(llm_settings(settings)), trained)


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
    decider = await deployed_decider(settings_of(ctx))
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
@click.option("--jsonl", type=click.File("r"), help='Lines with "text" and "route".')
@click.option(
    "--corrections",
    is_flag=True,
    help="Score the stored corrections instead: before and after the router learned them.",
)
@click.option("--misses", type=int, default=10, show_default=True, help="How many misses to list.")
@click.pass_context
@user_errors
@run_async
async def eval_routing(
    ctx: click.Context, jsonl: IO[str] | None, corrections: bool, misses: int
) -> None:
    """Accuracy, per-route precision and recall, and the confusion matrix of the router."""
    settings = settings_of(ctx)
    if corrections == (jsonl is not None):
        fail("give either --jsonl FILE or --corrections")
    if corrections:
        await _eval_corrections(settings, misses)
        return
    assert jsonl is not None
    from router.evaluation import render_report, score

    try:
        examples = parse_examples(jsonl.read().splitlines(), jsonl.name)
    except ClassifierError as exc:
        fail(str(exc))
    decider = await deployed_decider(settings)
    decisions = [await decider.decide(e.text) for e in examples]
    report = score(
        [e.text for e in examples],
        [e.route for e in examples],
        [d.primary.route for d in decisions],
        [d.confidence for d in decisions],
    )
    click.echo(render_report(report, show_misses=misses))


async def _eval_corrections(settings: Settings, misses: int) -> None:
    """How the router does on the texts people corrected: learned, and before it learned them."""
    from bot.routing import classifier
    from router.evaluation import evaluate as score_examples
    from router.evaluation import render_report

    stored = await stored_corrections(settings)
    if not stored:
        click.echo("no corrections stored yet (people make them with 'Wrong specialist?')")
        return
    learned = classifier(settings, stored)
    before = classifier(settings)
    after_report = score_examples(stored, learned.predict)
    before_report = score_examples(stored, before.predict)
    click.echo(
        f"{len(stored)} corrections: accuracy {after_report.accuracy:.3f} with them learned "
        f"(the router as deployed), {before_report.accuracy:.3f} on the shipped examples alone"
    )
    click.echo("")
    click.echo(render_report(after_report, show_misses=misses))


@click.group("router")
def router_group() -> None:
    """Train and inspect the fast classifier."""


@router_group.command("retrain")
@click.pass_context
@user_errors
@run_async
async def retrain(ctx: click.Context) -> None:
    """Train the classifier again on the shipped examples and every stored correction."""
    from router.classifier import FastClassifier
    from router.evaluation import evaluate as score_examples
    from router.training import cache_key, cache_path, default_classifier, with_corrections

    settings = settings_of(ctx)
    stored = await stored_corrections(settings)
    examples = with_corrections(load_default_examples("train.jsonl"), stored)
    started = time.perf_counter()
    trained: FastClassifier = await asyncio.to_thread(
        default_classifier, stored, Path(settings.env.cache_dir), force=True
    )
    took = time.perf_counter() - started
    report = score_examples(load_default_examples("heldout.jsonl"), trained.predict)
    path = cache_path(Path(settings.env.cache_dir), cache_key(examples))
    click.echo(
        f"trained on {len(examples)} examples ({len(stored)} corrections) in {took:.1f}s; "
        f"held-out accuracy {report.accuracy:.3f}; cached at {path}"
    )
    click.echo("running bots pick it up at their next start")


class TerminalNotifier:
    """In a terminal there is no on-call channel: show what would have been posted."""

    async def post(self, channel: str, text: str, key: str) -> str:
        click.echo(click.style(f"[would post to {channel}] {text}", fg="yellow"))
        return "terminal"

    async def find(self, channel: str, key: str) -> str | None:
        return None


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
    from bot.wiring import (
        approval_rules,
        build_agents,
        decider_for,
        runner_for,
        stored_classifier,
        supervisor_settings,
    )
    from router.supervisor import Supervisor
    from router.turn import Turn
    from storage import migrate
    from storage.database import connected
    from storage.store import Store

    settings = settings_of(ctx)
    logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))  # a conversation
    db = await connected(settings.env.database_url)
    await migrate.upgrade(db)
    store = Store.over(db)
    runner = runner_for(settings, store)
    supervisor = Supervisor(
        store,
        build_agents(settings, store, TerminalNotifier()),
        runner,
        decider_for(settings, runner.llm, await stored_classifier(settings, store)),
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
                team_id="T_TERMINAL",
                channel="terminal",
                thread_ts=key,
                user_id=user,
                text=line,
                ts=f"{n}.{uuid.uuid4().hex}",  # unique: a turn is found by its question's ts
                event_id=f"{key}-{uuid.uuid4().hex[:8]}",
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
