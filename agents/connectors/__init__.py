"""Connectors: the narrow doors from the agents to outside services.

Each outside service the specialists touch has one interface here and one or more
implementations: the billing ledger (`billing`: the demo SQLite ledger or Stripe), the runbooks
(`knowledge`), service health checks (`status`) and paging on-call (`paging`: PagerDuty or a
Slack channel). Agents and tools depend on the interfaces, so the demo, the tests and production
differ only in which implementation the entry point passes in. Implementations kept by
`storage/` (the demo ledger, the runbooks' index) live in `bot/`, since agents never import it.

Nothing here imports Slack code: where a connector must reach Slack, `bot/` hands it the
narrow `paging.Notifier` interface defined in this package.

This module only holds `ConnectorError`, the base of every error the connectors raise on
purpose, so that a tool can turn any of them into a sentence for a person without catching
bugs along with them. It imports no submodule, so importing one connector does not pull in the
others' dependencies (``stripe`` in particular).
"""

from __future__ import annotations

__all__ = ["ConnectorError"]


class ConnectorError(Exception):
    """Base of the errors connectors raise on purpose; the message is written for a person."""
