"""What is not loaded yet: a value some listeners wait for while the bot starts.

The process answers Slack within a second or two of starting, but the agents, litellm and the
router take several more to load. Listeners that need them are registered on the Bolt app from
the start, in their final order, and wait here for the loaded parts; conversation events need
nothing of them (the intake records them, and the worker takes them up once attached).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from slack_bolt.kwargs_injection.async_args import AsyncArgs

T = TypeVar("T")
Listener = Callable[..., Awaitable[Any]]


class Pending(Generic[T]):
    """A value set once, or the error that kept it from being made; `get` waits for either."""

    def __init__(self) -> None:
        self._future: asyncio.Future[T] = asyncio.get_running_loop().create_future()

    def set(self, value: T) -> None:
        self._future.set_result(value)

    def fail(self, error: BaseException) -> None:
        if not self._future.done():
            self._future.set_exception(error)
            self._future.exception()  # retrieved: a start-up that failed is reported elsewhere

    @property
    def ready(self) -> bool:
        return self._future.done() and self._future.exception() is None

    async def get(self) -> T:
        return await asyncio.shield(self._future)

    async def wait(self) -> None:
        await self.get()


def deferred(parts: Pending[T], pick: Callable[[T], Listener]) -> Listener:
    """A Bolt listener that waits for the parts, then calls the real listener with the same
    arguments Bolt would have given it (by parameter name, as Bolt injects them)."""

    async def listener(args: AsyncArgs) -> Any:
        real = pick(await parts.get())
        names = inspect.signature(real).parameters
        return await real(**{name: getattr(args, name) for name in names})

    return listener
