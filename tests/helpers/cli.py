"""The `switchboard` command run in this process through click's runner.

A fresh interpreter per command would spend most of each test importing; what the installed
entry point does in its own process is covered once, in `tests/bot/test_startup.py`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from bot.cli.main import cli

# What a developer's shell may hold that would change what the command reads.
_UNSET = ("SLACK_", "SWITCHBOARD_", "OTEL_", "DATABASE_URL", "PORT", "LOG_LEVEL", "PAGERDUTY_")


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def switchboard(*args: str, env: dict[str, str] | None = None, cwd: Path) -> Ran:
    """Like `switchboard ARGS` in `cwd` with only `env` set of the product's variables.

    From an async test the command runs on a thread of its own: it starts its own event loop,
    as in its own process.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _invoke(args, env, cwd)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_invoke, args, env, cwd).result()


def _invoke(args: tuple[str, ...], env: dict[str, str] | None, cwd: Path) -> Ran:
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith(_UNSET)}
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level  # the command configures logging
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, list(args), env={**unset, **(env or {})})
    finally:
        os.chdir(old)
        root.handlers[:] = handlers
        root.setLevel(level)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a bug: the test shows its traceback
    return Ran(result.exit_code, result.stdout, result.stderr)
