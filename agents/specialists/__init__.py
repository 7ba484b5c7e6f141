"""The four specialists (triage, billing, technical, escalation) and the factory that builds them.

Each specialist module holds its instructions, its tools and its offline policy; `extract`
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
