"""The Slack app: transports, intake, outbox, approvals, digests, rendering and the CLI."""
