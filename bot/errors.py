"""Errors that the person running Switchboard can fix, with the one line that tells them how."""

from __future__ import annotations


class SwitchboardError(Exception):
    """Base for mistakes a user can fix; the CLI prints it in one line, never a traceback."""


class ConfigError(SwitchboardError):
    """A setting is missing or wrong. Names the setting, the problem and the fix."""

    def __init__(self, setting: str, problem: str, fix: str) -> None:
        self.setting = setting
        self.problem = problem
        self.fix = fix
        super().__init__(f"{setting}: {problem}. {fix}")
