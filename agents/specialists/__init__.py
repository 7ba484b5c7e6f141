"""The four specialists (triage, billing, technical, escalation) and the factory that builds them.

Each specialist is a package: its instructions and `build_*` in `__init__`, its tools (with
their argument models and approval rules) in `tools`, its offline policy in `policy`; `extract`
holds the text patterns they share. Start from `build_specialists`; `bot.doors` builds the
`SpecialistDeps` over the database.
"""

from agents.specialists.factory import (
    SPECIALISTS,
    SpecialistConfig,
    SpecialistDeps,
    build_specialists,
)

__all__ = [
    "SPECIALISTS",
    "SpecialistConfig",
    "SpecialistDeps",
    "build_specialists",
]
