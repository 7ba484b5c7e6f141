"""Errors the router raises on purpose, under one base so callers can tell them from bugs."""

from __future__ import annotations


class RouterError(Exception):
    """Base for errors raised by the router, its classifier and the supervisor on purpose."""


class UnknownRecord(RouterError, KeyError):  # noqa: N818  (a KeyError: what is missing)
    """An approval or reply the supervisor was asked about does not exist (or fits no question)."""
