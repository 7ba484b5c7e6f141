"""Argument checks taken from Slack's published Web API spec.

``spec_params.json`` (written by ``spec_extract.py``) lists each method's arguments, their
types and which are required. A missing required argument or a value of the wrong type is
answered ``invalid_arguments`` with Slack's response_metadata messages, before any handler
runs. Unknown arguments are ignored, as Slack ignores them.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from .errors import invalid_arguments

_TRUE = ("1", "true", "True", "yes")
_FALSE = ("0", "false", "False", "no", "")


@cache
def method_specs() -> dict[str, dict[str, Any]]:
    """The parsed spec_params.json (read once)."""
    text = resources.files(__package__).joinpath("spec_params.json").read_text()
    specs: dict[str, dict[str, Any]] = json.loads(text)
    return specs


def _type_error(kind: str, value: Any) -> str | None:
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int | str):
            return "must be an integer"
        if isinstance(value, str) and not value.lstrip("-").isdigit():
            return "must be an integer"
    elif kind == "number":
        try:
            float(value)
        except (TypeError, ValueError):
            return "must be a number"
    elif kind == "boolean" and not isinstance(value, bool) and str(value) not in _TRUE + _FALSE:
        return "must be a boolean"
    return None


def check_arguments(method: str, args: dict[str, Any]) -> None:
    """Raise invalid_arguments when ``args`` break the spec of ``method``."""
    spec = method_specs().get(method)
    if spec is None:
        return
    problems = [
        f"missing required field: {name}"
        for name in spec["required"]
        if args.get(name) in (None, "")
    ]
    for name, kind in spec["args"].items():
        if name in args and args[name] is not None:
            error = _type_error(kind, args[name])
            if error:
                problems.append(f"{error}: {name}")
    if problems:
        raise invalid_arguments(*problems)


def as_bool(value: Any, default: bool = False) -> bool:
    """A form or JSON boolean ("true", "1", True) as a bool."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value) in _TRUE


def as_int(value: Any, default: int) -> int:
    """A form or JSON integer, with a default when absent."""
    if value is None or value == "":
        return default
    return int(value)
