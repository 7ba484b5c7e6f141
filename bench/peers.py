"""Switchboard against langgraph-supervisor and the OpenAI Agents SDK, on the same work.

Run: .venv/bin/python bench/peers.py [--rounds 2] [--messages 300] [--no-memory] [--db-dir D]
     .venv/bin/python bench/peers.py --model-speed [--messages 20] [--delay 0.4] [--tps 50]

The work: four specialists with one tool each; 300 messages, a thread per message; each
message goes to one specialist, which calls its tool once and answers. Every framework runs on
a scripted model with zero latency that counts its calls and the characters of each request
(as chat-completions JSON: messages plus tool schemas). Each framework runs in a process of its
own (bench/peers/*_peer.py): Switchboard under the product's .venv, the peers under
bench/.venv-peers, created here from bench/requirements-peers.txt when missing. The peers are
never installed into the product's environment.

Persistence is compared like with like: Switchboard's SQLite store against LangGraph's SQLite
checkpointer and the SDK's SQLiteSession (file-backed); the peers' in-memory variants follow.
Overhead is the wall time of a message, one at a time, minus the scripted model's own time.
With --rounds N each process runs N times, interleaved, and the round with the lowest p50 is
kept (the machine may be shared; the best round is the least disturbed). Like-for-like overhead
also takes out each framework's own model layer (litellm for Switchboard, LangChain's chat model
`ainvoke` for LangGraph, the `Model` for the Agents SDK), which the first figure leaves in ours.

With --model-speed, every framework's model calls go through its normal client library to one
local OpenAI-compatible server (bench/peers/_model_server.py) that answers after `--delay`
seconds and produces `--tps` tokens a second; each message is asked one at a time, and the
figures are the time to the first visible text (for Switchboard, the streamed message appearing
in a local Slack workspace; for the peers, the first text token any of their models streams),
the time to the complete reply, and the model calls and prompt tokens per message.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PEERS = BENCH / "peers"
VENV = BENCH / ".venv-peers"
REQUIREMENTS = BENCH / "requirements-peers.txt"
HELDOUT = ROOT / "router" / "data" / "heldout.jsonl"
TARGET_OVERHEAD = 3.0  # times lower than each persistent peer
TARGET_CHARS = 0.5  # at most this share of langgraph-supervisor's prompt characters
TARGET_LIKE = {"langgraph": 3.0, "openai-agents": 2.0}  # like-for-like overhead, times lower
TARGET_SOONER = 0.30  # at model speed: the full reply this share sooner than the faster peer
TARGET_LAG = 0.5  # seconds from the answer's first token to our first visible text


@dataclass(frozen=True)
class Peer:
    key: str
    framework: str
    persistence: str
    script: str
    args: tuple[str, ...]
    product: bool = False  # runs under the product's .venv, not the peers'

    @property
    def persistent(self) -> bool:
        return self.persistence != "memory"


PEER_LIST = (
    Peer("switchboard", "switchboard", "sqlite store", "switchboard_peer.py", (), product=True),
    Peer(
        "langgraph",
        "langgraph-supervisor",
        "sqlite checkpointer",
        "langgraph_peer.py",
        ("--store", "sqlite"),
    ),
    Peer(
        "openai-agents",
        "openai-agents",
        "SQLiteSession file",
        "openai_agents_peer.py",
        ("--store", "sqlite"),
    ),
    Peer(
        "langgraph-memory",
        "langgraph-supervisor",
        "memory",
        "langgraph_peer.py",
        ("--store", "memory"),
    ),
    Peer(
        "openai-agents-memory",
        "openai-agents",
        "memory",
        "openai_agents_peer.py",
        ("--store", "memory"),
    ),
)


@dataclass
class Outcome:
    peer: Peer
    runs: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""

    @property
    def best(self) -> dict[str, Any] | None:
        return min(self.runs, key=lambda r: p(overheads(r), 50)) if self.runs else None


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def overheads(run: dict[str, Any]) -> list[float]:
    return [w - m for w, m in zip(run["wall_ms"], run["model_ms"], strict=True)]


def like_for_like(run: dict[str, Any]) -> list[float]:
    """Wall time minus the time inside the framework's own model layer."""
    return [w - m for w, m in zip(run["wall_ms"], run["layer_ms"], strict=True)]


def peers_python() -> Path:
    """bench/.venv-peers/bin/python, installed from the pinned requirements when they changed."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    base = getattr(sys, "_base_executable", sys.executable)
    if not python.exists():
        print(f"creating {VENV.relative_to(ROOT)} ...", flush=True)
        subprocess.run([base, "-m", "venv", str(VENV)], check=True)
    print(f"installing {REQUIREMENTS.relative_to(ROOT)} into it ...", flush=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(digest)
    return python


def make_job(folder: Path, messages: int, concurrency: int) -> Path:
    examples = [json.loads(line) for line in HELDOUT.read_text().splitlines() if line.strip()]
    random.Random(1).shuffle(examples)
    if len(examples) < messages + 20:
        raise SystemExit(f"{HELDOUT} has {len(examples)} examples; ask for fewer messages")
    job = {
        "messages": examples[:messages],
        "warmup": examples[messages : messages + 20],
        "concurrency": concurrency,
    }
    path = folder / "job.json"
    path.write_text(json.dumps(job))
    return path


def run_peer(
    peer: Peer, python: Path, job: Path, folder: Path, breakdown: bool, db_dir: str | None
) -> dict[str, Any]:
    out = folder / f"{peer.key}-{time.monotonic_ns()}.json"
    extra = ["--breakdown"] if breakdown and peer.product else []
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    env.update(
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        LANGSMITH_TRACING="false",
        LANGCHAIN_TRACING_V2="false",
        OPENAI_AGENTS_DISABLE_TRACING="1",
        PYTHONWARNINGS="ignore",
    )
    if db_dir:
        env["TMPDIR"] = db_dir  # where each peer's tempfile folder, and so its database, goes
    command = [str(python), str(PEERS / peer.script), str(job), str(out), *peer.args, *extra]
    done = subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-12:])
        raise RuntimeError(f"exit {done.returncode}:\n{tail}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def single_route_calls(run: dict[str, Any]) -> float:
    """Model calls per message over messages that went to one specialist (all, for the peers)."""
    calls = run["calls_per_message"]
    parts = run.get("parts") or [1] * len(calls)
    single = [c for c, n in zip(calls, parts, strict=True) if n == 1]
    return statistics.fmean(single) if single else float("nan")


def row(outcome: Outcome) -> list[str]:
    peer, run = outcome.peer, outcome.best
    if run is None:
        return [peer.framework, peer.persistence, "failed", *[""] * 8]
    n = run["messages"]
    over = overheads(run)
    return [
        peer.framework,
        peer.persistence,
        f"{p(over, 50):.2f}",
        f"{p(over, 99):.2f}",
        f"{p(like_for_like(run), 50):.2f}",
        f"{n / run['concurrent_s']:.0f}",
        f"{run['model_calls'] / n:.2f}",
        f"{single_route_calls(run):.2f}",
        f"{(run['message_chars'] + run['tool_chars']) / n:,.0f}",
        f"{run['tool_chars'] / n:,.0f}",
        f"{run['rss_peak_mb']:.0f} ({run['rss_setup_mb']:.0f})",
    ]


HEADER = [
    "framework",
    "persistence",
    "overhead p50 ms",
    "p99 ms",
    "like-for-like p50 ms",
    "msgs/s @{n}",
    "calls/msg",
    "single-route",
    "prompt chars/msg",
    "of which tools",
    "peak RSS MB (before run)",
]


def table(rows: list[list[str]], concurrency: int) -> str:
    header = [h.format(n=concurrency) for h in HEADER]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def targets(outcomes: dict[str, Outcome]) -> list[str]:
    ours = outcomes["switchboard"].best
    if ours is None:
        return ["Switchboard did not run: no targets to check."]
    lines = []
    our_p50, our_p99 = p(overheads(ours), 50), p(overheads(ours), 99)
    our_calls = single_route_calls(ours)
    our_chars = (ours["message_chars"] + ours["tool_chars"]) / ours["messages"]
    for key in ("langgraph", "openai-agents"):
        theirs = outcomes[key].best
        name = outcomes[key].peer.framework
        if theirs is None:
            lines.append(f"{name}: did not run ({outcomes[key].error.splitlines()[0]})")
            continue
        ratio = p(overheads(theirs), 50) / our_p50
        ratio99 = p(overheads(theirs), 99) / our_p99
        lines.append(
            f"overhead vs {name} (sqlite): {ratio:.2f}x lower at p50, {ratio99:.2f}x at p99 "
            f"(target >= {TARGET_OVERHEAD:.0f}x): {verdict(ratio >= TARGET_OVERHEAD)}"
        )
        like = p(like_for_like(theirs), 50) / p(like_for_like(ours), 50)
        lines.append(
            f"like-for-like overhead (each model layer excluded) vs {name} (sqlite): "
            f"{like:.2f}x lower at p50 (target >= {TARGET_LIKE[key]:.0f}x): "
            f"{verdict(like >= TARGET_LIKE[key])}"
        )
        their_calls = single_route_calls(theirs)
        lines.append(
            f"model calls per single-route message vs {name}: {our_calls:.2f} vs "
            f"{their_calls:.2f} (target fewer): {verdict(our_calls < their_calls)}"
        )
    langgraph = outcomes["langgraph"].best
    if langgraph is not None:
        theirs_chars = (langgraph["message_chars"] + langgraph["tool_chars"]) / langgraph[
            "messages"
        ]
        share = our_chars / theirs_chars
        ok = verdict(share <= TARGET_CHARS)
        lines.append(
            f"prompt characters vs langgraph-supervisor: {our_chars:,.0f} vs {theirs_chars:,.0f} "
            f"per message = {share:.2f} (target <= {TARGET_CHARS}): {ok}"
        )
    return lines


def notes(outcomes: dict[str, Outcome]) -> list[str]:
    lines = []
    ours = outcomes["switchboard"].best
    if ours is not None:
        routing = ours.get("routing", {})
        parts = ours.get("parts", [])
        lines.append(
            f"Switchboard routing (fast classifier, no model call): {routing.get('same route', 0)}"
            f"/{ours['messages']} to the labelled specialist; "
            f"{sum(n > 1 for n in parts)} message(s) ran 2 specialists (multi-intent or a "
            f"second opinion); by source: "
            + ", ".join(f"{k[3:]} {v}" for k, v in routing.items() if k.startswith("by "))
        )
    for outcome in outcomes.values():
        for run in outcome.runs:
            if "breakdown_ms" not in run:
                continue
            parts_ms = dict(run["breakdown_ms"])
            total = parts_ms.pop("total")
            rest = total - sum(parts_ms.values())
            shown = ", ".join(f"{k} {v:.2f}" for k, v in sorted(parts_ms.items()))
            lines.append(
                f"Switchboard, where a message's {total:.2f} ms go (ms per message, one more "
                f"sequential pass, instrumented): {shown}, everything else (supervisor, runner, "
                f"pydantic, logging) {rest:.2f}"
            )
    for outcome in outcomes.values():
        best = outcome.best
        if best is not None and best.get("answers", {}).get("wrong"):
            lines.append(
                f"{outcome.peer.key}: {best['answers']['wrong']} answers were not scripted"
            )
    syncs = [
        f"{o.peer.framework} {o.best['sqlite_synchronous']}"
        for o in outcomes.values()
        if o.best is not None and "sqlite_synchronous" in o.best
    ]
    if syncs:
        lines.append(
            "SQLite PRAGMA synchronous as each ships (WAL everywhere; FULL syncs the disk on "
            "every commit, NORMAL only at checkpoints): " + ", ".join(syncs)
        )
    versions: dict[str, str] = {}
    for outcome in outcomes.values():
        if outcome.best is not None:
            versions.update(outcome.best.get("versions", {}))
    lines.append("versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    return lines


SPEED_PEERS = ("switchboard", "langgraph", "openai-agents")


def speed_figures(run: dict[str, Any], calls: list[Any]) -> dict[str, Any]:
    """Per message: seconds to first text and to the full reply, model calls, prompt tokens,
    and the lag from the answer's first token (the last streamed call's) to the first text."""
    first, full, count, tokens, lag = [], [], [], [], []
    for asked, shown, done in zip(run["asked"], run["first"], run["done"], strict=True):
        mine = [c for c in calls if asked <= c.at <= done]
        first.append(shown - asked)
        full.append(done - asked)
        count.append(len(mine))
        tokens.append(sum(c.prompt_tokens for c in mine))
        spoke = [c.first_text_at for c in mine if c.streamed and c.first_text_at is not None]
        lag.append(shown - spoke[-1] if spoke else float("nan"))
    return {"first": first, "full": full, "calls": count, "tokens": tokens, "lag": lag}


def model_speed(args: argparse.Namespace, python: Path | None) -> None:
    sys.path.insert(0, str(PEERS))
    from _model_server import ModelServer

    started = time.perf_counter()
    figures: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="switchboard-speed-") as name:
        folder = Path(name)
        job = make_job(folder, args.messages, 1)
        routes = {
            m["text"]: m["route"]
            for key in ("warmup", "messages")
            for m in json.loads(job.read_text())[key]
        }
        server = ModelServer(routes, args.delay, args.tps).start()
        try:
            for peer in PEER_LIST:
                if peer.key not in SPEED_PEERS:
                    continue
                interpreter = Path(sys.executable) if peer.product else python
                if interpreter is None:
                    print(f"{peer.key}: no interpreter", flush=True)
                    continue
                print(f"{peer.key} at model speed ...", flush=True)
                before = len(server.calls)
                extra = ("--model-speed", server.url)
                try:
                    run = run_peer(
                        replace(peer, args=(*peer.args, *extra)),
                        interpreter,
                        job,
                        folder,
                        False,
                        None,
                    )
                except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
                    print(f"  failed: {exc}", flush=True)
                    continue
                figures[peer.key] = speed_figures(run, server.calls[before:])
                figures[peer.key]["versions"] = run.get("versions", {})
        finally:
            server.stop()
    print(
        f"\n{args.messages} messages one at a time, a thread per message; every model call "
        f"{args.delay * 1000:.0f} ms to its first byte, then {args.tps:.0f} tokens/s; medians; "
        f"cpus {os.cpu_count()}; {time.perf_counter() - started:.0f} s in all\n"
    )
    header = ["framework", "first text s", "full reply s", "calls/msg", "prompt tokens/msg"]
    rows = []
    for key, f in figures.items():
        rows.append(
            [
                key,
                f"{statistics.median(f['first']):.2f}",
                f"{statistics.median(f['full']):.2f}",
                f"{statistics.fmean(f['calls']):.2f}",
                f"{statistics.fmean(f['tokens']):,.0f}",
            ]
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    print(
        "\nfirst text: Switchboard's streamed message appearing in the local Slack workspace; "
        "the peers' first streamed text token (the earliest they could show anything). "
        "prompt tokens: characters of each request's messages and tools / 4.\n"
    )
    ours = figures.get("switchboard")
    peers = [figures[k] for k in ("langgraph", "openai-agents") if k in figures]
    if ours and peers:
        fastest = min(statistics.median(f["full"]) for f in peers)
        sooner = 1 - statistics.median(ours["full"]) / fastest
        print(
            f"full reply vs the faster peer: {sooner:.0%} sooner (target >= "
            f"{TARGET_SOONER:.0%}): {verdict(sooner >= TARGET_SOONER)}"
        )
        lags = [x for x in ours["lag"] if x == x]
        if lags:
            lag = statistics.median(lags)
            print(
                f"first visible text after the answer's first model token: median {lag:.2f} s, "
                f"max {max(lags):.2f} s (target <= {TARGET_LAG} s): "
                f"{verdict(max(lags) <= TARGET_LAG)}"
            )
    versions: dict[str, str] = {}
    for f in figures.values():
        versions.update(f.get("versions", {}))
    print("versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=2, help="runs per process; best p50 kept")
    parser.add_argument("--messages", type=int, default=None, help="300; 20 at model speed")
    parser.add_argument("--model-speed", action="store_true", help="see the module's docstring")
    parser.add_argument("--delay", type=float, default=0.4, help="model speed: s to first byte")
    parser.add_argument("--tps", type=float, default=50.0, help="model speed: tokens a second")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--no-memory", action="store_true", help="skip the in-memory variants")
    parser.add_argument(
        "--db-dir",
        help="folder for the SQLite files (default: the system's temp folder); /dev/shm takes "
        "the disk, and the peers' fsync on every commit, out of the comparison",
    )
    args = parser.parse_args()
    if args.model_speed:
        args.messages = args.messages or 20
        try:
            speed_python: Path | None = peers_python()
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"could not install {REQUIREMENTS.name}: {exc}")
            speed_python = None
        model_speed(args, speed_python)
        return
    args.messages = args.messages or 300

    peers = [peer for peer in PEER_LIST if peer.persistent or not args.no_memory]
    outcomes = {peer.key: Outcome(peer) for peer in peers}
    python: Path | None = None
    try:
        python = peers_python()
    except (OSError, subprocess.CalledProcessError) as exc:
        for outcome in outcomes.values():
            if not outcome.peer.product:
                outcome.error = f"could not install {REQUIREMENTS.name}: {exc}"
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="switchboard-peers-") as name:
        folder = Path(name)
        job = make_job(folder, args.messages, args.concurrency)
        for round_no in range(args.rounds):
            for peer in peers:
                outcome = outcomes[peer.key]
                interpreter = Path(sys.executable) if peer.product else python
                if interpreter is None or (outcome.error and not outcome.runs):
                    continue
                print(f"round {round_no + 1}/{args.rounds}: {peer.key} ...", flush=True)
                try:
                    run = run_peer(peer, interpreter, job, folder, round_no == 0, args.db_dir)
                except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
                    outcome.error = str(exc)
                    print(f"  failed: {exc}", flush=True)
                    continue
                outcome.runs.append(run)

    print(
        f"\n{args.messages} messages, a thread per message, one specialist and one tool call "
        f"each; scripted zero-latency models; cpus {os.cpu_count()}; best of {args.rounds} "
        f"round(s); SQLite files in {args.db_dir or tempfile.gettempdir()}; "
        f"{time.perf_counter() - started:.0f} s in all\n"
    )
    print(table([row(outcomes[peer.key]) for peer in peers], args.concurrency))
    print(
        "\noverhead: wall time per message one at a time minus the scripted model's own time "
        "(litellm's share stays in Switchboard's). calls/msg: all messages; single-route: "
        "messages one specialist answered. prompt chars: messages + tool schemas sent to the "
        "model, as chat-completions JSON, summed over a message's calls. peak RSS: whole process, "
        "imports included.\n"
    )
    for line in targets(outcomes):
        print(line)
    print()
    for line in notes(outcomes):
        print(line)
    for outcome in outcomes.values():
        if outcome.error and not outcome.runs:
            print(f"{outcome.peer.key} did not run: {outcome.error}")


if __name__ == "__main__":
    main()
