"""What every peer shares: the four specialists' words and tools, the scripted replies, the meter.

Each peer script imports this file from its own folder and nothing else of ours, so it runs
under any interpreter: Switchboard's under the product's .venv, the others under
bench/.venv-peers. The same instructions, tool names, descriptions, arguments, tool outputs and
final answers go to every framework, so the only difference is the framework.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROUTES = ("billing", "technical", "triage", "escalation")


@dataclass(frozen=True)
class Spec:
    description: str
    instructions: str
    tool: str
    tool_description: str


SPECIALISTS: dict[str, Spec] = {
    "billing": Spec(
        "Billing: invoices, charges, payments, refunds and credits.",
        "You are the billing specialist of a support team. Answer questions about invoices, "
        "charges, payments, refunds and credits. Look every figure up with lookup_billing; "
        "never guess an amount or a date. Reply in two or three short sentences.",
        "lookup_billing",
        "Look up the customer's invoices, payments and refunds that the question is about.",
    ),
    "technical": Spec(
        "Technical: errors, bugs, integrations, the API and how-to questions.",
        "You are the technical specialist of a support team. Answer questions about errors, "
        "bugs, integrations, the API and how the product works. Search the runbooks with "
        "search_runbooks and quote the steps they give. Reply in two or three short sentences.",
        "search_runbooks",
        "Search the runbooks and known issues for the problem the user describes.",
    ),
    "triage": Spec(
        "Triage: general questions, vague requests, feedback and anything else.",
        "You are the triage specialist of a support team. Classify each request with "
        "classify_request, ask for missing details when it is vague, and say what happens "
        "next. Reply in two or three short sentences.",
        "classify_request",
        "Classify a request: category, priority, and which details are missing.",
    ),
    "escalation": Spec(
        "Escalation: outages, incidents, security problems, requests for a human.",
        "You are the escalation specialist of a support team. Get a human involved for "
        "outages, incidents, security problems and requests for a person. Summarise the "
        "thread with summarize_thread for whoever picks it up. Reply in two or three short "
        "sentences.",
        "summarize_thread",
        "Summarise the thread so far for the person who will pick it up.",
    ),
}
TOOL_ROUTE = {spec.tool: route for route, spec in SPECIALISTS.items()}

ROUTER_INSTRUCTIONS = (
    "You are the router of a support team's Slack bot. Hand each message to exactly one "
    "specialist: "
    + "; ".join(f"{route} ({spec.description})" for route, spec in SPECIALISTS.items())
    + ". Do not answer yourself."
)


def tool_output(route: str, query: str) -> dict[str, Any]:
    """What a specialist's tool returns: small and deterministic."""
    ref = int(hashlib.blake2b(query.encode(), digest_size=4).hexdigest(), 16) % 10_000
    return {"status": "ok", "route": route, "ref": f"{route[:3].upper()}-{ref:04d}"}


def answer(route: str, output: str) -> str:
    """The specialist's final answer, written from its tool's output (a JSON string)."""
    try:
        ref = json.loads(output).get("ref", "?")
    except (ValueError, AttributeError):
        ref = "?"
    return f"I looked into it ({ref}): this is for {route}, and here is what to do next."


def prompt_chars(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> tuple[int, int]:
    """Characters of one request in the OpenAI chat-completions shape: (messages, tool schemas)."""
    return len(json.dumps(messages, default=str)), len(json.dumps(tools, default=str))


@dataclass
class Meter:
    """What the scripted models saw: calls, prompt characters, and their own time."""

    calls: int = 0
    message_chars: int = 0
    tool_chars: int = 0
    model_s: float = 0.0
    layer_s: float = 0.0  # time inside the framework's own model layer (like-for-like overhead)
    by_role: dict[str, int] = field(default_factory=dict)

    def record(self, role: str, messages: int, tools: int, started: float) -> None:
        self.calls += 1
        self.message_chars += messages
        self.tool_chars += tools
        self.by_role[role] = self.by_role.get(role, 0) + 1
        self.model_s += time.perf_counter() - started

    def snapshot(self) -> tuple[int, int, int, float]:
        return self.calls, self.message_chars, self.tool_chars, self.model_s


SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


def synchronous(value: Any) -> str:
    """SQLite's `PRAGMA synchronous` in words: FULL syncs the disk on every commit."""
    return SYNCHRONOUS.get(int(value), str(value)) if value is not None else "unknown"


def rss_mb() -> float:
    """The resident set now, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


Handle = Callable[[str, str, str], Awaitable[Any]]  # (text, route, thread id)


async def measure(
    name: str,
    handle: Handle,
    meter: Meter,
    job: dict[str, Any],
    extra: Callable[[], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Warm up, then one message at a time, then `concurrency` at once; a thread per message."""
    messages = job["messages"]
    rss_setup = rss_mb()
    for i, m in enumerate(job["warmup"]):
        await handle(m["text"], m["route"], f"warm-{i}")
    before = meter.snapshot()
    wall_ms: list[float] = []
    model_ms: list[float] = []
    layer_ms: list[float] = []
    calls: list[int] = []
    for i, m in enumerate(messages):
        model_before, calls_before, layer_before = meter.model_s, meter.calls, meter.layer_s
        started = time.perf_counter()
        await handle(m["text"], m["route"], f"seq-{i}")
        wall_ms.append((time.perf_counter() - started) * 1000)
        model_ms.append((meter.model_s - model_before) * 1000)
        layer_ms.append((meter.layer_s - layer_before) * 1000)
        calls.append(meter.calls - calls_before)
    after = meter.snapshot()

    queue = list(enumerate(messages))

    async def worker() -> None:
        while queue:
            i, m = queue.pop()
            await handle(m["text"], m["route"], f"par-{i}")

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(job["concurrency"]):
            group.create_task(worker())
    concurrent_s = time.perf_counter() - started
    return {
        "name": name,
        "messages": len(messages),
        "wall_ms": wall_ms,
        "model_ms": model_ms,
        "layer_ms": layer_ms,
        "model_calls": after[0] - before[0],
        "calls_per_message": calls,
        "message_chars": after[1] - before[1],
        "tool_chars": after[2] - before[2],
        "calls_by_role": meter.by_role,
        "concurrency": job["concurrency"],
        "concurrent_s": concurrent_s,
        "rss_setup_mb": rss_setup,
        "rss_peak_mb": peak_rss_mb(),
        "python": sys.version.split()[0],
        **(extra() if extra else {}),
    }


SpeedHandle = Callable[[str, str, str], Awaitable[float | None]]  # -> when text first showed


async def measure_speed(name: str, handle: SpeedHandle, job: dict[str, Any]) -> dict[str, Any]:
    """Model speed, one message at a time: when it was asked, when its first text could show,
    when its reply was complete (time.monotonic, one clock for every process on the machine)."""
    for i, m in enumerate(job["warmup"][:2]):
        await handle(m["text"], m["route"], f"warm-{i}")
    asked: list[float] = []
    first: list[float] = []
    done: list[float] = []
    for i, m in enumerate(job["messages"]):
        asked.append(time.monotonic())
        shown = await handle(m["text"], m["route"], f"seq-{i}")
        done.append(time.monotonic())
        first.append(shown if shown is not None else done[-1])
    return {"name": name, "messages": len(asked), "asked": asked, "first": first, "done": done}


def load_job(path: str) -> dict[str, Any]:
    job: dict[str, Any] = json.loads(Path(path).read_text())
    return job


def write_result(path: str, result: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(result))
