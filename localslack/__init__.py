"""localslack: a Slack-compatible workspace on this machine (being built)."""
