"""Errors of the agent runtime."""

from __future__ import annotations


class AgentError(Exception):
    """Base for errors raised by agents, tools and the LLM layer on purpose."""


class ToolError(AgentError):
    """A tool could not do its job; the message is safe to show to the model and the user."""


class LLMUnavailable(AgentError):  # noqa: N818  (reads better at the raise site)
    """Every configured model failed or is behind an open breaker."""
