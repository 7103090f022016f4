"""Chat adapters (Slack, Discord): translate platform events into Service calls and render the replies.

The core never imports from here; each adapter imports its own platform library.
"""
