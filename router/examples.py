"""Labelled examples: the routes, how a file of examples is read, and what training needs.

The classifier is only as good as its examples, so a bad file fails loudly with the file and the
line to fix instead of training a quietly worse model.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from agents.routes import ROUTES as ROUTES  # the order the classifier lists labels in
from router.errors import RouterError

FALLBACK_ROUTE = "triage"
MIN_PER_ROUTE = 2


class ClassifierError(RouterError):
    """Raised for training data the classifier cannot learn from; the message says what to fix."""


@dataclass(frozen=True)
class Example:
    text: str
    route: str


def check_examples(examples: Sequence[Example]) -> tuple[str, ...]:
    """The routes to learn, in a stable order; raises when some route is missing or too thin."""
    counts = Counter(e.route for e in examples)
    if len(counts) < 2:
        raise ClassifierError(
            f"training needs examples of at least two routes, got {sorted(counts) or 'none'}"
        )
    thin = sorted(r for r, n in counts.items() if n < MIN_PER_ROUTE)
    if thin:
        raise ClassifierError(
            f"routes {thin} have fewer than {MIN_PER_ROUTE} examples; add more lines to the data"
        )
    known = [r for r in ROUTES if r in counts]
    return tuple(known + sorted(r for r in counts if r not in ROUTES))


def parse_examples(lines: Iterable[str], source: str = "<examples>") -> list[Example]:
    """Read JSON lines of {"text", "route"}; a bad line names its file and number."""
    examples: list[Example] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text, route = row["text"], row["route"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ClassifierError(
                f'{source} line {number}: expected {{"text": ..., "route": ...}} ({exc})'
            ) from exc
        if not isinstance(text, str) or not isinstance(route, str) or not text.strip():
            raise ClassifierError(f"{source} line {number}: text and route must be non-empty")
        examples.append(Example(text, route))
    return examples


def load_examples(path: Path) -> list[Example]:
    with path.open(encoding="utf-8") as fh:
        return parse_examples(fh, str(path))


def load_default_examples(name: str) -> list[Example]:
    """Examples shipped in the package (train.jsonl or heldout.jsonl), found even from a wheel."""
    data = resources.files("router").joinpath("data", name)
    return parse_examples(data.read_text(encoding="utf-8").splitlines(), f"router/data/{name}")
