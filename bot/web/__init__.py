"""Pages for citations and briefs: signed, expiring links (links.py) and server-rendered HTML (pages.py).

Imports no chat library; the HTTP server hands requests in, the chat renderers ask for URLs.
"""
