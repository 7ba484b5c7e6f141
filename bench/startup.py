"""Start-up: how soon a fresh `switchboard` process answers, and how big a running bot gets.

    .venv/bin/python bench/startup.py               # 5 cold runs of each, then 50 turns
    .venv/bin/python bench/startup.py --runs 3 --turns 0
    .venv/bin/python bench/startup.py --src ../main # the same, for another checkout's code
    .venv/bin/python bench/startup.py --no-encoder  # router.encoder = "off", as without the extra

Every figure is the median wall time of several new processes (the installed `switchboard`
script, as a user runs it) of:

- `switchboard --help`;
- a configuration mistake: `PORT=abc switchboard run`;
- `switchboard route "I was charged twice"` with the trained router cached, and with an empty
  cache (it trains first);
- `switchboard run` in HTTP mode against localslack (the Web API it checks its token with), from
  spawning the process to a signed `app_mention` event getting its 200, and to `/readyz` saying
  200 (turns can run).

Then, unless `--turns 0`, the same process answers that many mentions (one thread each), and its
peak resident memory (VmHWM in /proc) is read. Nothing is asserted: the machine is shared.
Targets: --help and configuration mistakes under 1 s, route under 3 s, the event's 200 within
3 s of spawning, peak RSS at most 250 MB after 50 turns.

Python writes no bytecode cache when PYTHONDONTWRITEBYTECODE is set, which makes every start
compile every module again; an installed package has its cache, so this script unsets that
variable for its children and runs each command once, untimed, before timing it.
`--src` puts another checkout first on the children's path (the same virtualenv), which is how
the figures of main were taken.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/router.py shadows `router`

from localslack import LocalSlack, LocalSlackConfig, signature

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "switchboard"
PRODUCT_ENV = ("SLACK_", "SWITCHBOARD_", "OTEL_", "DATABASE_URL", "PORT", "LOG_LEVEL")


def child_env(src: Path, work: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(PRODUCT_ENV)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = str(src)
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    env["SWITCHBOARD_CACHE_DIR"] = str(work / "cache")
    env["DATABASE_URL"] = f"sqlite:///{work / 'bench.db'}"
    return {**env, **extra}


def once(args: Sequence[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run([str(SCRIPT), *args], env=env, cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - started


def median_of(
    label: str, args: Sequence[str], env: dict[str, str], cwd: Path, runs: int, fresh: Path | None
) -> None:
    """`fresh`: a folder emptied before every run (the router's cache, for a cold cache)."""
    once(args, env, cwd)  # untimed: bytecode caches, and a warm router cache unless `fresh`
    times = []
    for _ in range(runs):
        if fresh is not None:
            subprocess.run(["rm", "-rf", str(fresh)], check=True)
        times.append(once(args, env, cwd))
    print(f"{label:<44} median {statistics.median(times):6.2f} s  ({spread(times)})", flush=True)


def spread(times: Sequence[float]) -> str:
    return f"min {min(times):.2f}, max {max(times):.2f}, n={len(times)}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def mention(ls: LocalSlack, text: str) -> tuple[str, bytes]:
    """A person's mention posted in localslack (delivery off); its event, to sign and send."""
    before = len(ls.deliveries)
    ts = await ls.post("bob", "support", f"<@{ls.bot_user_id}> {text}")
    payloads = [d.payload for d in ls.deliveries[before:] if d.kind == "event"]
    event = next(p for p in payloads if p["event"]["type"] == "app_mention")
    return ts, json.dumps(event).encode()


async def send(http: aiohttp.ClientSession, url: str, secret: str, body: bytes) -> int:
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(secret, stamp, body),
    }
    async with http.post(url, data=body, headers=headers) as response:
        await response.read()
        return response.status


async def until_answered(
    http: aiohttp.ClientSession, url: str, secret: str | None, body: bytes, within: float
) -> float:
    """Seconds until `url` answers 200 (a GET without `secret`), retrying every 10 ms."""
    started = time.perf_counter()
    while time.perf_counter() - started < within:
        try:
            if secret is None:
                async with http.get(url) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            elif await send(http, url, secret, body) == 200:
                return time.perf_counter() - started
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.01)  # polling a process that is starting: nothing to wait on
    raise TimeoutError(f"{url} did not answer 200 within {within} s")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def one_start(
    ls: LocalSlack, env: dict[str, str], cwd: Path, turns: int
) -> tuple[float, ...]:
    """Spawn `switchboard run`; seconds to the event's 200 and to /readyz; peak RSS (MB)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/slack/events"
    _, body = await mention(ls, "I was charged twice for my subscription")
    async with aiohttp.ClientSession() as http:
        spawned = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            str(SCRIPT),
            "run",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            env=env,
            cwd=cwd,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            await until_answered(http, url, ls.signing_secret, body, 120)
            acked = time.perf_counter() - spawned
            await until_answered(http, f"http://127.0.0.1:{port}/readyz", None, b"", 120)
            ready = time.perf_counter() - spawned
            rss = float("nan")
            if turns:
                await drive(ls, http, url, turns)
                rss = peak_rss_mb(process.pid)
        finally:
            process.terminate()
            await process.wait()
    return acked, ready, rss


async def drive(ls: LocalSlack, http: aiohttp.ClientSession, url: str, turns: int) -> None:
    """`turns` mentions, each its own thread, sent at once; waits for every reply."""
    topics = ("I was charged twice", "I can't log in", "the API returns 500", "hello")
    roots = []
    for n in range(turns):
        ts, body = await mention(ls, f"{topics[n % len(topics)]} (#{n})")
        roots.append(ts)
        assert await send(http, url, ls.signing_secret, body) == 200
    for ts in roots:
        await ls.wait_for_bot_message("support", thread_ts=ts, within=300)


async def http_mode(src: Path, work: Path, runs: int, turns: int) -> None:
    config = LocalSlackConfig(rate_limits_enabled=False, delivery="none")
    async with LocalSlack(config) as ls:
        env = child_env(
            src,
            work,
            SLACK_BOT_TOKEN=ls.bot_token,
            SLACK_SIGNING_SECRET=ls.signing_secret,
            SLACK_API_URL=ls.api_url,
            SWITCHBOARD_DEMO_LEDGER=str(work / "ledger.db"),
        )
        upgrade = [str(SCRIPT), "db", "upgrade"]
        await asyncio.to_thread(subprocess.run, upgrade, env=env, cwd=work, check=True)
        await one_start(ls, env, work, 0)  # untimed: bytecode and router caches
        acks, readies = [], []
        for n in range(runs):
            acked, ready, rss = await one_start(ls, env, work, turns if n == runs - 1 else 0)
            acks.append(acked)
            readies.append(ready)
        label = "run (HTTP): spawn to a signed event's 200"
        print(f"{label:<44} median {statistics.median(acks):6.2f} s  ({spread(acks)})")
        label = "run (HTTP): spawn to /readyz 200"
        print(f"{label:<44} median {statistics.median(readies):6.2f} s  ({spread(readies)})")
        if turns:
            print(f"{'run (HTTP): peak RSS after ' + str(turns) + ' turns':<44} {rss:8.0f} MB")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="cold runs of each (default 5)")
    parser.add_argument("--turns", type=int, default=50, help="turns before reading RSS")
    parser.add_argument("--src", type=Path, default=ROOT, help="the checkout whose code runs")
    parser.add_argument(
        "--no-encoder", action="store_true", help='router.encoder = "off" (a default install)'
    )
    options = parser.parse_args(argv)
    src, runs = options.src.resolve(), options.runs
    print(f"code: {src}; {runs} runs each; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}")
    print(f"encoder: {'off' if options.no_encoder else 'as installed'}")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        if options.no_encoder:  # ./switchboard.toml: the children run in this folder
            (work / "switchboard.toml").write_text('[router]\nencoder = "off"\n')
        env = child_env(src, work)
        median_of("switchboard --help", ["--help"], env, work, runs, None)
        bad = {**env, "PORT": "abc"}
        median_of("PORT=abc switchboard run", ["run"], bad, work, runs, None)
        route = ["route", "I was charged twice"]
        median_of("switchboard route (router cached)", route, env, work, runs, None)
        median_of("switchboard route (no cache: trains)", route, env, work, runs, work / "cache")
        asyncio.run(http_mode(src, work, runs, options.turns))


if __name__ == "__main__":
    main()
