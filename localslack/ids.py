"""Identifiers shaped like Slack's: message timestamps, event, envelope, trigger and file ids."""

from __future__ import annotations

import secrets
import string
import time
import uuid

_ALNUM = string.ascii_uppercase + string.digits


class TsClock:
    """Issues message ``ts`` strings ("1732190000.000100") that are unique and increasing.

    Slack's ts is seconds and microseconds of the post; two posts in one microsecond still
    get different values, because clients use ts as the message's primary key.
    """

    def __init__(self) -> None:
        self._last_us = 0

    def next(self) -> str:
        """The next ts, never equal to or below an earlier one."""
        now_us = time.time_ns() // 1000
        self._last_us = max(now_us, self._last_us + 1)
        seconds, micros = divmod(self._last_us, 1_000_000)
        return f"{seconds}.{micros:06d}"


def random_id(prefix: str, length: int = 10) -> str:
    """An uppercase alphanumeric id with a type prefix, like ``Ev0AB12CD34`` or ``F07XYZ``."""
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def event_id() -> str:
    """A globally unique Events API event id."""
    return random_id("Ev")


def envelope_id() -> str:
    """A Socket Mode envelope id (Slack uses UUIDs)."""
    return str(uuid.uuid4())


def trigger_id() -> str:
    """A trigger id such as Slack puts in slash commands and interactions."""
    return f"{secrets.randbelow(10**13)}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"


def ts_key(ts: str) -> tuple[int, int]:
    """A sort key for a ts string, exact to the microsecond; bad input sorts first.

    Floats would do for display but not for comparing neighbours: a ts has 16 digits.
    """
    seconds, _, fraction = ts.partition(".")
    if not seconds.isdigit() or (fraction and not fraction.isdigit()):
        return (0, 0)
    return (int(seconds), int((fraction + "000000")[:6]))
