"""The store: one small interface over SQLite (default) and, later, Postgres.

`open_store(url)` is the only constructor callers need; nothing here reads settings.
"""

from __future__ import annotations

from bot.store.base import (
    DocumentRow,
    NewDocument,
    SourceRow,
    Store,
    StoreError,
)


def open_store(url: str) -> Store:
    """Open (and migrate) the store a database URL names: sqlite:///rel.db, sqlite:////abs.db."""
    if url.startswith("sqlite:"):
        from bot.store.sqlite import SQLiteStore, path_from_url

        return SQLiteStore(path_from_url(url))
    if url.startswith(("postgresql:", "postgres:")):
        raise StoreError(f"database URL {url.split('@')[-1]!r}: the Postgres store is not built yet; use sqlite:///")
    raise StoreError(f"database URL {url!r} is not understood: use sqlite:///relative.db or sqlite:////absolute.db")


__all__ = ["DocumentRow", "NewDocument", "SourceRow", "Store", "StoreError", "open_store"]
