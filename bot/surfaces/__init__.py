"""The Slack surfaces besides threads: App Home, the assistant panel, the message shortcut."""
