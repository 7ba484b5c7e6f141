"""Slack load: signed events at a fixed rate into the real bot over HTTP, and what came back.

    .venv/bin/python bench/slack_load.py             # 100 events/s for 30 s over 50 threads
    .venv/bin/python bench/slack_load.py --quick     # 20 events/s for 5 s: a fast check
    .venv/bin/python bench/slack_load.py --rate 50 --seconds 10 --threads 20

localslack runs in this process: it is the Web API the bot replies through and the record of
what it said. The bot runs in a child process (`running(...)` + `serve_http` on a free port,
SQLite in a temporary folder, the offline model), as it would in production, so that the load
generator and the bot do not share an event loop and the bot's own latency is what is timed.
(`bench/approvals.py` starts the bot the same way, with `bot_process`.) Three untimed turns
warm the bot up first.

Each event is a person's message first posted into localslack (delivery off, so threads and
replies are real) whose `app_mention` event we then sign and POST ourselves, open loop: event i
leaves at start + i/rate whether or not earlier ones were acknowledged. Replies are seen through
localslack's change feed the moment they are stored, and tied to their event by the outbox id
the bot puts in each message's metadata. Prints medians and p99s from one run; the machine is
shared and noisy, so nothing is asserted. Targets: ack p99 under 50 ms at 100 events/s (Slack
allows 3 s), no lost and no duplicated replies. When the bot cannot keep up, the backlog and the
timeline say so; the reply latency then is mostly time spent queued.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import random
import resource
import sys
import time
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

# bench/ holds router.py: with only this folder first on sys.path, `import router` would find
# that script instead of the package. The repository root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from localslack import LocalSlack, LocalSlackConfig, WaitTimeoutError, signature
from localslack.models import Message
from localslack.state import Change
from storage.database import Database
from storage.store import Store

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = ("support", "billing")
PEOPLE = ("bob", "cara")
SLACK_DEADLINE = 3.0
ACK_TARGET_MS = 50.0  # issue 13, at 100 events/s
PACING_NOTE = (
    "pacing: localslack's chat.postMessage pace (Slack's 1/s per channel) is off and the bot's "
    "post interval is 0. The {threads} threads live in #{channels}, so each channel gets about "
    "{per:.0f} replies/s; with Slack's pace on, this would time that limit, not the bot (a team "
    "at this rate is spread over many channels in real Slack)."
)


# ----- the bot, in its own process ---------------------------------------------------------


@dataclass(frozen=True)
class BotSpec:
    """What the bot's child process needs: where Slack is, its secrets, where to keep data."""

    api_url: str
    bot_token: str
    signing_secret: str
    database_url: str
    ledger_path: str
    approver_groups: tuple[str, ...] = ()
    post_interval: float = 0.0
    log_level: str = "WARNING"


@dataclass
class BotLog:
    """What the bot's process reported: its log (JSON lines at WARNING and above, counted by
    level) and its garbage-collector pauses."""

    levels: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    gc_pauses: list[tuple[float, int, float]] = field(default_factory=list)  # at, gen, ms

    def add(self, line: str) -> None:
        try:
            level = str(json.loads(line).get("level", "?"))
        except ValueError:
            level = "text"
        self.levels[level] += 1
        if len(self.samples) < 5:
            self.samples.append(line[:300])

    def gc_line(self, start: float, end: float) -> str:
        """The bot's garbage-collector pauses (each stops its event loop) between two moments."""
        inside = [(gen, ms) for at, gen, ms in self.gc_pauses if start <= at <= end]
        if not inside:
            return "bot gc     no collection of 10 ms or more in the measured window"
        longest = max(ms for _, ms in inside)
        full = sum(1 for gen, _ in inside if gen == 2)
        return (
            f"bot gc     {len(inside)} collections of 10 ms or more in the measured window "
            f"({full} full), longest {longest:.0f} ms, {sum(ms for _, ms in inside):.0f} ms in all"
        )

    def describe(self) -> str:
        if not self.levels:
            return "bot log: no warnings or errors"
        counts = ", ".join(f"{n} {level}" for level, n in self.levels.most_common())
        return f"bot log: {counts}; first lines:\n    " + "\n    ".join(self.samples)


@dataclass
class BotHandle:
    events_url: str
    base_url: str
    model: str
    pid: int
    log: BotLog


def bot_child_main() -> None:
    """The child process: read a BotSpec from the first line of stdin, serve until stdin closes."""
    # Before litellm is imported, or it tries to download its price list (see DESIGN.md).
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    fields = json.loads(sys.stdin.readline())
    fields["approver_groups"] = tuple(fields.get("approver_groups") or ())
    spec = BotSpec(**fields)
    pauses = GcPauses()
    gc.callbacks.append(pauses)
    try:
        asyncio.run(_serve_bot(spec))
    finally:
        print(json.dumps({"gc": pauses.pauses}), flush=True)


class GcPauses:
    """A gc callback: collections of 10 ms or more, as (perf_counter at start, generation, ms).

    perf_counter is CLOCK_MONOTONIC on Linux, so the parent can compare these moments with its
    own. Only observes; the bot collects as it always would.
    """

    def __init__(self) -> None:
        self.pauses: list[tuple[float, int, float]] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        now = time.perf_counter()
        if phase == "start":
            self._started = now
        elif now - self._started >= 0.01:
            self.pauses.append((self._started, info["generation"], (now - self._started) * 1000))


async def _serve_bot(spec: BotSpec) -> None:
    from bot.config_file import ApprovalsConfig, ApproverRule, FileConfig
    from bot.logs import configure
    from bot.runtime import running, serve_http
    from bot.settings import EnvSettings, Settings

    configure(spec.log_level, "json")
    env = EnvSettings(
        SLACK_BOT_TOKEN=spec.bot_token,
        SLACK_SIGNING_SECRET=spec.signing_secret,
        SLACK_API_URL=spec.api_url,
        DATABASE_URL=spec.database_url,
        SWITCHBOARD_DEMO_LEDGER=spec.ledger_path,
        SWITCHBOARD_MODEL="",  # blank is unset: the offline model, whatever the shell says
    )
    rule = ApproverRule(groups=list(spec.approver_groups))
    settings = Settings(env, FileConfig(approvals=ApprovalsConfig(default=rule)), None)
    async with running(settings, upgrade_database=True, post_interval=spec.post_interval) as board:
        runner, port = await serve_http(board, "127.0.0.1", 0)
        try:
            model = board.supervisor.agents["triage"].active_model
            print(json.dumps({"port": port, "model": model}), flush=True)
            await asyncio.to_thread(sys.stdin.read)  # until the parent closes our stdin
        finally:
            await runner.cleanup()


@contextlib.asynccontextmanager
async def bot_process(spec: BotSpec, *, start_within: float = 120.0) -> AsyncIterator[BotHandle]:
    """Start the bot in a child process; on exit close its stdin and wait for a clean stop."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bench.slack_load import bot_child_main; bot_child_main()",
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin and process.stdout and process.stderr
    log = BotLog()
    ready: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    reading = [
        asyncio.create_task(_read_log(process.stderr, log)),
        asyncio.create_task(_read_stdout(process.stdout, log, ready)),
    ]
    try:
        process.stdin.write(json.dumps(asdict(spec)).encode() + b"\n")
        await process.stdin.drain()
        try:
            async with asyncio.timeout(start_within):
                info = await ready
        except TimeoutError:
            message = f"The bot did not start in {start_within:g} s.\n{log.describe()}"
            raise SystemExit(message) from None
        base = f"http://127.0.0.1:{info['port']}"
        yield BotHandle(f"{base}/slack/events", base, str(info["model"]), process.pid, log)
    finally:
        process.stdin.close()
        try:
            async with asyncio.timeout(30):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
        await asyncio.gather(*reading)


async def _read_stdout(
    stream: asyncio.StreamReader, log: BotLog, ready: asyncio.Future[dict[str, Any]]
) -> None:
    """The first JSON line with a port says the bot is up; anything else is logged."""
    while line := await stream.readline():
        text = line.decode(errors="replace").strip()
        try:
            info = json.loads(text)
        except ValueError:
            info = None
        if isinstance(info, dict) and "port" in info and not ready.done():
            ready.set_result(info)
        elif isinstance(info, dict) and "gc" in info:
            log.gc_pauses = [(float(at), int(gen), float(ms)) for at, gen, ms in info["gc"]]
        else:
            log.add(text)
    if not ready.done():
        ready.set_exception(SystemExit(f"The bot did not start.\n{log.describe()}"))


async def _read_log(stream: asyncio.StreamReader, log: BotLog) -> None:
    while line := await stream.readline():
        log.add(line.decode(errors="replace").strip())


async def bot_metrics(http: aiohttp.ClientSession, bot: BotHandle) -> dict[str, float]:
    """The bot's Prometheus samples, keyed like `name{label="value"}`."""
    async with http.get(f"{bot.base_url}/metrics") as response:
        text = await response.text()
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[sample.name + (f"{{{labels}}}" if labels else "")] = sample.value
    return samples


# ----- figures -------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile; NaN when there are no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def spread(values: Sequence[float], unit: str = "ms") -> str:
    """`p50 … p99 … max …` of values already in `unit`."""
    if not values:
        return "no samples"
    p50, p99 = percentile(values, 50), percentile(values, 99)
    return f"p50 {p50:8.1f} {unit}   p99 {p99:8.1f} {unit}   max {max(values):8.1f} {unit}"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


# ----- the messages --------------------------------------------------------------------------

OPENERS = {
    "billing": (
        "Why was Helix Analytics charged twice in February? INV-1018 looks like INV-1017.",
        "Can you explain the charges on invoice INV-1024? The customer says the total is off.",
        "A customer's card was declined on INV-1026, what happened with that payment?",
        "What plan is Orbital Freight on, and what did they pay on their last invoice?",
        "Is invoice INV-1022 paid? The customer still sees it as open in their portal.",
        "Why did the total on INV-1009 go up compared with the month before?",
    ),
    "technical": (
        "Our webhook deliveries started failing with 401 after we rotated the signing secret.",
        "API calls return 429 Too Many Requests during the nightly sync, what are the limits?",
        "How do I set up SAML SSO with Okta for our workspace?",
        "The dashboard takes 20 seconds to load the reports page for one customer.",
        "A customer's data export has been stuck in queued for two hours.",
        "Password reset e-mails are not arriving for users at one customer's domain.",
    ),
    "triage": (
        "Hi, a customer asked something I'm not sure about, can you help?",
        "A user says something is off with their workspace settings since yesterday.",
        "We have a question from a new customer about getting started with the product.",
        "One of our users reports that notifications stopped, not sure where to start.",
    ),
}
FOLLOW_UPS = {
    "billing": (
        "and what are the line items on that invoice?",
        "when was the last payment attempt?",
        "which card was used for that payment?",
        "can you also check INV-1013 for the same customer?",
        "is anything else still open on that account?",
    ),
    "technical": (
        "we already regenerated the API key, same result",
        "it only happens for one customer, the others are fine",
        "which logs should we collect for you?",
        "is there a workaround we can give them today?",
    ),
    "triage": (
        "it's the Helix Analytics account, about 40 users",
        "they noticed it this morning, there is no error message",
        "thanks, what do you need from them?",
    ),
}
TOPICS = tuple(OPENERS)


# ----- sending -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    rate: float = 100.0
    seconds: float = 30.0
    threads: int = 50
    twins: bool = False
    drain: float = 300.0


@dataclass
class Sent:
    """One event: where it went, when it was due, when it left, and how the bot answered."""

    channel: str
    root: str
    event_id: str
    due: float
    started: float = math.nan
    ack_ms: float = math.nan
    status: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Arrival:
    channel: str
    ts: str
    at: float


class Replies:
    """The bot's messages in our threads, timed by localslack's change feed as they are stored."""

    def __init__(self, ls: LocalSlack) -> None:
        self.ls = ls
        self.expected: Counter[tuple[str, str]] = Counter()
        self.got: Counter[tuple[str, str]] = Counter()
        self.arrivals: list[Arrival] = []
        self.elsewhere = 0

    def __call__(self, change: Change) -> None:
        if change.kind != "message" or change.user != self.ls.bot_user_id or not change.ts:
            return
        key = (change.channel, change.thread_ts or "")
        if key not in self.expected:
            self.elsewhere += 1
            return
        self.got[key] += 1
        self.arrivals.append(Arrival(change.channel, change.ts, time.perf_counter()))

    def complete(self) -> bool:
        return all(self.got[key] >= n for key, n in self.expected.items())

    def outstanding(self) -> int:
        return sum(max(0, n - self.got[key]) for key, n in self.expected.items())

    def message(self, arrival: Arrival) -> Message | None:
        return self.ls.workspace.message(arrival.channel, arrival.ts)


class Load:
    """Posts each message into localslack, then signs and sends its app_mention event."""

    def __init__(
        self, ls: LocalSlack, http: aiohttp.ClientSession, url: str, options: Options
    ) -> None:
        self.ls = ls
        self.http = http
        self.url = url
        self.options = options
        self.rng = random.Random(20240601)
        self.roots: dict[int, tuple[str, str]] = {}  # thread -> (channel id, root ts)
        self.sent: list[Sent] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.replies = Replies(ls)

    async def warm_up(self) -> None:
        """One untimed turn per topic, so first-use costs stay out of the figures."""
        for topic in TOPICS:
            text = f"<@{self.ls.bot_user_id}> {OPENERS[topic][0]}"
            ts, mention, _ = await self._say(PEOPLE[0], CHANNELS[0], text, None)
            await self._send(json.dumps(mention).encode(), None)
            await self.ls.wait_for_bot_message(CHANNELS[0], thread_ts=ts, within=60)

    async def run(self) -> float:
        """Send every event on schedule (open loop); returns when the last one was due."""
        total = int(self.options.rate * self.options.seconds)
        start = time.perf_counter() + 0.2
        for index in range(total):
            due = start + index / self.options.rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent, bodies = await self._post(index, due)
            self.sent.append(sent)
            self._spawn(self._send(bodies[0], sent))
            for twin in bodies[1:] if self.options.twins else ():
                self._spawn(self._send(twin, None))
        await asyncio.gather(*self.tasks)
        return start + (total - 1) / self.options.rate

    async def _post(self, index: int, due: float) -> tuple[Sent, list[bytes]]:
        """Event `index` goes to thread index % threads; a thread's first message opens it."""
        thread = index % self.options.threads
        topic = TOPICS[thread % len(TOPICS)]
        channel = CHANNELS[thread % len(CHANNELS)]
        root = self.roots[thread][1] if thread in self.roots else None
        pool = FOLLOW_UPS[topic] if root else OPENERS[topic]
        text = f"<@{self.ls.bot_user_id}> {self.rng.choice(pool)}"
        ts, mention, others = await self._say(PEOPLE[index % len(PEOPLE)], channel, text, root)
        key = self.roots.setdefault(thread, (self.ls.workspace.channel(channel).id, ts))
        self.replies.expected[key] += 1
        sent = Sent(key[0], key[1], str(mention["event_id"]), due)
        return sent, [json.dumps(p).encode() for p in (mention, *others)]

    async def _say(
        self, person: str, channel: str, text: str, thread_ts: str | None
    ) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
        """Post as a person; return the ts, its app_mention payload and its other events."""
        before = len(self.ls.deliveries)
        ts = await self.ls.post(person, channel, text, thread_ts=thread_ts)
        # Delivery is off, so localslack only records the events Slack would send: take them.
        payloads = [d.payload for d in self.ls.deliveries[before:] if d.kind == "event"]
        mention = next(p for p in payloads if p["event"]["type"] == "app_mention")
        return ts, mention, [p for p in payloads if p is not mention]

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send(self, body: bytes, sent: Sent | None) -> None:
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature(self.ls.signing_secret, stamp, body),
        }
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            async with self.http.post(self.url, data=body, headers=headers) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = type(exc).__name__
        if sent is not None:
            sent.started, sent.status, sent.error = started, status, error
            sent.ack_ms = (time.perf_counter() - started) * 1000


# ----- tying replies to events ---------------------------------------------------------------


@dataclass
class Tally:
    """Replies tied to events through the outbox rows their metadata names."""

    latency_ms: dict[str, float] = field(default_factory=dict)
    answers: Counter[str] = field(default_factory=Counter)
    failures: int = 0
    extra_parts: int = 0
    cards: int = 0
    unknown: int = 0
    agents: Counter[str] = field(default_factory=Counter)
    unanswered: Counter[str] = field(default_factory=Counter)  # by the inbox row's status


async def tally(load: Load, database_url: str) -> Tally:
    """Read the bot's database (after it stopped): outbox key `turn:<event_id>:<part>`."""
    by_event = {s.event_id: s for s in load.sent}
    result = Tally()
    store = Store.over(Database(database_url))
    try:
        for arrival in load.replies.arrivals:
            message = load.replies.message(arrival)
            payload = ((message.metadata if message else None) or {}).get("event_payload") or {}
            outbox_id = payload.get("outbox_id")
            row = await store.outbox.get(outbox_id) if isinstance(outbox_id, int) else None
            kind, _, rest = (row.dedupe_key if row else "").partition(":")
            event_id, _, part = rest.partition(":")
            sent = by_event.get(event_id) if kind == "turn" else None
            if sent is None or part not in ("0", "error"):
                result.cards += kind == "card"
                result.extra_parts += sent is not None
                result.unknown += sent is None and kind != "card"
                continue
            result.failures += part == "error"
            result.answers[event_id] += 1
            result.latency_ms.setdefault(event_id, (arrival.at - sent.started) * 1000)
            result.agents[_agent(message)] += 1
        for sent in load.sent:
            if sent.event_id not in result.answers:
                inbox = await store.inbox.by_event_id(sent.event_id)
                result.unanswered[inbox.status if inbox else "no inbox row"] += 1
    finally:
        await store.close()
    return result


def _agent(message: Message | None) -> str:
    text = json.dumps(message.blocks if message else "")
    marker = "Answered by *"
    return text.split(marker, 1)[1].split("*", 1)[0] if marker in text else "(none)"


# ----- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """When sending ran, when everything was answered, and the bot's CPU in each phase."""

    first: float
    last: float
    finished: float | None
    cpu_sending: float
    cpu_after: float
    cpu_load: float

    @property
    def seconds(self) -> float:
        return max(self.last - self.first, 1e-9)


class Backlog:
    """Events sent but not yet answered, at any moment (from the recorded times)."""

    def __init__(self, load: Load) -> None:
        self.sent = sorted(s.started for s in load.sent if not math.isnan(s.started))
        self.replied = sorted(a.at for a in load.replies.arrivals)

    def at(self, moment: float) -> int:
        return max(0, bisect_right(self.sent, moment) - bisect_right(self.replied, moment))

    def replied_between(self, start: float, end: float) -> int:
        return bisect_left(self.replied, end) - bisect_left(self.replied, start)


def report(load: Load, result: Tally, window: Window, metrics: dict[str, float]) -> None:
    sent = load.sent
    acks = [s.ack_ms for s in sent if s.status == 200]
    lag = [(s.started - s.due) * 1000 for s in sent if not math.isnan(s.started)]
    lost = len(sent) - len(result.answers)
    doubled = sum(1 for n in result.answers.values() if n > 1)
    backlog = Backlog(load)
    offered = len(sent) / window.seconds
    print(f"sent       {len(sent)} events in {window.seconds:.1f} s ({offered:.1f}/s)")
    print(f"  lateness {spread(lag)}   (of this load generator, against its schedule)")
    late = sum(1 for a in acks if a > SLACK_DEADLINE * 1000)
    errors = Counter(s.error or str(s.status) for s in sent if s.status != 200)
    print(f"ack        {spread(acks)}   over {SLACK_DEADLINE:g} s: {late}; failed: {dict(errors)}")
    print(f"reply      {spread(list(result.latency_ms.values()))}   (event sent -> reply stored)")
    replied = backlog.replied_between(window.first, window.last)
    peak = max((backlog.at(t) for t in backlog.sent), default=0)
    drained = f"{window.finished - window.last:.1f} s" if window.finished else "not within --drain"
    print(
        f"backlog    {backlog.at(window.last)} unanswered when sending stopped (peak {peak}); "
        f"replies/s while sending {replied / window.seconds:.1f} of {offered:.1f} offered; "
        f"last reply {drained} after the last event"
    )
    print(
        f"replies    {len(result.answers)} events answered, lost {lost}, duplicated {doubled}; "
        f"failure messages {result.failures}, extra parts {result.extra_parts}, approval cards "
        f"{result.cards}, unattributed {result.unknown + load.replies.elsewhere}"
    )
    if result.unanswered:
        print(f"  unanswered events by inbox status: {dict(result.unanswered)}")
    agents = ", ".join(f"{name} {n}" for name, n in result.agents.most_common())
    print(f"answered   by {agents or '-'}")
    _report_bot(metrics, window, len(result.answers))
    timeline(load, result.latency_ms, window, backlog)
    ack_p99 = percentile(acks, 99)
    print(
        f"targets    ack p99 < {ACK_TARGET_MS:g} ms: {verdict(ack_p99 < ACK_TARGET_MS)} "
        f"({ack_p99:.1f} ms); lost = 0: {verdict(lost == 0)}; duplicated = 0: "
        f"{verdict(doubled == 0)}"
    )


def _report_bot(metrics: dict[str, float], window: Window, answered: int) -> None:
    turns = metrics.get("switchboard_turn_seconds_count", 0.0)
    mean = metrics.get("switchboard_turn_seconds_sum", 0.0) / turns if turns else math.nan
    dupes = sum(
        v for k, v in metrics.items() if k.startswith("switchboard_duplicate_events_total{")
    )
    posts = {
        k.split('"')[1]: int(v)
        for k, v in metrics.items()
        if k.startswith("switchboard_slack_posts_total{")
    }
    failed = int(metrics.get("switchboard_turn_failures_total", 0.0))
    print(
        f"bot        {int(turns)} turns (3 of them warm-up), mean {mean * 1000:.0f} ms each "
        f"(claimed -> reply queued); failed turns {failed}; duplicate events dropped "
        f"{int(dupes)}; outbox posts {posts}"
    )
    sending, after = window.cpu_sending, window.cpu_after
    print(
        f"cpu        bot process {sending:.1f} s while sending + {after:.1f} s after = "
        f"{(sending + after) / max(answered, 1) * 1000:.0f} ms per answered event; "
        f"load generator + localslack {window.cpu_load:.1f} s"
    )


def timeline(
    load: Load, latency: dict[str, float], window: Window, backlog: Backlog, rows: int = 10
) -> None:
    """Per slice of the sending window: events sent, replies stored, ack p99, unanswered."""
    step = window.seconds / rows
    print("timeline   from   sent  replied  ack-p99-ms  reply-p50-ms  unanswered-at-end")
    for n in range(rows):
        lo, hi = window.first + n * step, window.first + (n + 1) * step
        last = n == rows - 1
        batch = [s for s in load.sent if lo <= s.due < hi or (last and s.due >= hi)]
        acks = [s.ack_ms for s in batch if s.status == 200]
        waits = [latency[s.event_id] for s in batch if s.event_id in latency]
        print(
            f"{'':10}{n * step:5.1f}s {len(batch):6d} {backlog.replied_between(lo, hi):8d} "
            f"{percentile(acks, 99):11.1f} {percentile(waits, 50):13.1f} {backlog.at(hi):18d}"
        )


# ----- main ----------------------------------------------------------------------------------


async def bench(options: Options) -> None:
    config = LocalSlackConfig(rate_limits_enabled=False, delivery="none")
    with TemporaryDirectory(prefix="switchboard-load-") as tmp:
        database_url = f"sqlite:///{tmp}/switchboard.db"
        async with LocalSlack(config) as ls:
            spec = BotSpec(
                ls.api_url, ls.bot_token, ls.signing_secret, database_url, f"{tmp}/ledger.db"
            )
            connector = aiohttp.TCPConnector(limit=0)  # open loop: never queue in the client
            async with (
                bot_process(spec) as bot,
                aiohttp.ClientSession(
                    connector=connector, timeout=aiohttp.ClientTimeout(total=30)
                ) as http,
            ):
                describe_run(options, bot)
                load = Load(ls, http, bot.events_url, options)
                await load.warm_up()
                stop_watching = ls.workspace.observe(load.replies)
                window = await _measure(ls, load, bot, options)
                metrics = await bot_metrics(http, bot)
            stop_watching()
            result = await tally(load, database_url)
            report(load, result, window, metrics)
            print(bot.log.gc_line(window.first, window.finished or time.perf_counter()))
            print(bot.log.describe())
            print(
                f"load average {os.getloadavg()[0]:.1f} after (a shared machine: one run's figures)"
            )


async def _measure(ls: LocalSlack, load: Load, bot: BotHandle, options: Options) -> Window:
    """Send, then wait (on localslack's change signal) until every event has a reply."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    cpu_start = process_cpu(bot.pid)
    first = time.perf_counter() + 0.2
    last = await load.run()
    cpu_sent = process_cpu(bot.pid)
    finished: float | None = None
    try:
        await ls.wait_for(load.replies.complete, options.drain, "a reply to every event")
        finished = time.perf_counter()
    except WaitTimeoutError:
        print(f"drain      gave up after {options.drain:g} s: {load.replies.outstanding()} left")
    cpu_end = process_cpu(bot.pid)
    mine = resource.getrusage(resource.RUSAGE_SELF)
    cpu_load = mine.ru_utime + mine.ru_stime - own.ru_utime - own.ru_stime
    first = load.sent[0].due if load.sent else first
    return Window(first, last, finished, cpu_sent - cpu_start, cpu_end - cpu_sent, cpu_load)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has used, from /proc; NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def describe_run(options: Options, bot: BotHandle) -> None:
    total = int(options.rate * options.seconds)
    twins = ", each with its `message` twin" if options.twins else ""
    channels = ", #".join(CHANNELS)
    print(
        f"slack_load: {options.rate:g} events/s for {options.seconds:g} s over "
        f"{options.threads} threads ({total} events{twins}) in #{channels}; "
        f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} before); model "
        f"{bot.model}; bot in its own process (pid {bot.pid})"
    )
    per = options.rate / len(CHANNELS)
    print(PACING_NOTE.format(threads=options.threads, channels=channels, per=per))


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to send")
    parser.add_argument("--threads", type=int, default=50, help="Slack threads to spread over")
    parser.add_argument("--quick", action="store_true", help="20 events/s for 5 s")
    parser.add_argument(
        "--twins",
        action="store_true",
        help="also send each mention's `message` twin, as Slack does (twice the requests)",
    )
    parser.add_argument(
        "--drain", type=float, default=300.0, help="seconds to wait for the last replies"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rate, args.seconds = 20.0, 5.0
    if args.rate <= 0 or args.seconds <= 0 or args.threads < 1:
        parser.error("--rate and --seconds must be positive and --threads at least 1")
    return Options(args.rate, args.seconds, args.threads, args.twins, args.drain)


def main() -> None:
    asyncio.run(bench(parse_args()))


if __name__ == "__main__":
    main()
