"""Human approval in Slack: the desk that posts and settles cards, who may decide, the cards
themselves, the clicks and reasons, and outcomes settled once."""
