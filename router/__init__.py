"""The supervisor: decides which specialist answers a message, runs it, and merges the reply."""
