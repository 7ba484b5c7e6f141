"""The Slack side of a turn: events in (intake, the wire check, HTTP), the worker that runs
turns, replies out (the outbox sender, streaming, rendering), and the Web API client."""
