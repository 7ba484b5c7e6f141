"""Scheduled digests: composing the figures, the Block Kit view, and the leased scheduler."""
