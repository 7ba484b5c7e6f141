"""The four routes, named once: every specialist, route decision, setting and button uses these.

The order is the one people see (specialists first, triage last: corrections offer them so, the
assistant suggests them so) and the one the classifier lists its labels in.
"""

from __future__ import annotations

from typing import Literal, get_args

Route = Literal["billing", "technical", "escalation", "triage"]
ROUTES: tuple[Route, ...] = get_args(Route)


def is_route(name: object) -> bool:
    """A string that names one of the routes (what a model, a button or a file said)."""
    return name in ROUTES
