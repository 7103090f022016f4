"""briefbot: a news briefing bot for Slack and Discord with cited answers and digests."""

__version__ = "0.1.0"
