"""The four specialists (triage, billing, technical, escalation) and the factory that builds them.

Each specialist module holds its instructions, its tools and its offline policy; `extract`
holds the text patterns they share. Start from `build_specialists`.
"""

from agents.specialists.factory import (
    DEMO_KB,
    SPECIALISTS,
    SpecialistConfig,
    SpecialistDeps,
    build_specialists,
    default_deps,
)

__all__ = [
    "DEMO_KB",
    "SPECIALISTS",
    "SpecialistConfig",
    "SpecialistDeps",
    "build_specialists",
    "default_deps",
]
