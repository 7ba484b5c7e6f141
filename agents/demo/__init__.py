"""Demo data for Switchboard: a knowledge base of runbooks (``kb/``) and a billing ledger.

A package only so that ``importlib.resources.files("agents.demo")`` finds the files when
Switchboard is installed as a wheel.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

__all__ = ["DEMO_KB", "load_demo_seed"]

DEMO_KB = Path(str(files(__name__).joinpath("kb")))


def load_demo_seed() -> dict[str, Any]:
    """The parsed ``ledger.json``, read as package data so it works when installed."""
    text = (files(__name__) / "ledger.json").read_text(encoding="utf-8")
    seed: dict[str, Any] = json.loads(text)
    return seed
