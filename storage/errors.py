"""Errors raised by the storage layer.

One base class so callers can tell a storage problem (a bad URL, an unreachable database) from a
bug, and turn it into a one-line message for the person running the bot.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error this package raises on purpose."""


class DatabaseURLError(StorageError):
    """The configured database URL cannot be used; the message says why and what would work."""


class InvalidTransitionError(StorageError):
    """A state change was asked for that the state machine does not allow from any state."""


class DatabaseUnavailable(StorageError):  # noqa: N818  (reads better at the raise site)
    """The database could not be reached or refused us; the message says which and the fix."""
