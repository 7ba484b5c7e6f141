"""What every CLI command shares: one-line errors for user mistakes, async commands, settings."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, NoReturn, ParamSpec, TypeVar

import click

from bot.errors import SwitchboardError
from bot.settings import Settings
from storage.errors import StorageError

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str) -> NoReturn:
    click.echo(f"switchboard: {message}", err=True)
    raise SystemExit(2)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors a user can fix into one line on stderr and exit status 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except SwitchboardError as exc:
            fail(str(exc))
        except StorageError as exc:
            fail(f"DATABASE_URL: {exc}")
        except OSError as exc:
            if "connect" not in str(exc).lower():
                raise
            fail(f"DATABASE_URL: cannot connect ({exc}). Check the host, port and credentials")
        except Exception as exc:
            # SQLAlchemy is loaded by whatever raised this; importing it up front costs --help.
            from sqlalchemy.exc import OperationalError

            if not isinstance(exc, OperationalError):
                raise
            fail(f"DATABASE_URL: cannot use the database ({exc.orig}). Check it is reachable")

    return wrapper


def run_async(coro_fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    @wraps(coro_fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return asyncio.run(coro_fn(*args, **kwargs))

    return wrapper


def settings_of(ctx: click.Context) -> Settings:
    settings = ctx.find_object(Settings)
    assert settings is not None
    return settings


async def until_stopped() -> None:
    """Wait for Ctrl-C or SIGTERM (what Heroku sends on a restart)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
