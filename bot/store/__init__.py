"""The store: one small interface over SQLite (default) and Postgres.

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


def open_store(url: str, busy_timeout: float = 30.0) -> Store:
    """Open (and migrate) the store a database URL names: sqlite:///rel.db, sqlite:////abs.db,
    postgresql://user@host:5432/dbname. `busy_timeout`: seconds a SQLite write waits for another's lock."""
    if url.startswith("sqlite:"):
        from bot.store.sqlite import SQLiteStore, path_from_url

        return SQLiteStore(path_from_url(url), busy_timeout=busy_timeout)
    if url.startswith(("postgresql:", "postgres:")):
        try:
            from bot.store.postgres import PostgresStore
        except ImportError as e:
            raise StoreError("postgresql:// URLs need psycopg: pip install 'briefbot[postgres]'") from e

        return PostgresStore(url)
    raise StoreError(f"database URL {url!r} is not understood: use sqlite:///relative.db, sqlite:////absolute.db "
                     "or postgresql://user@host:5432/dbname")


__all__ = ["DocumentRow", "NewDocument", "SourceRow", "Store", "StoreError", "open_store"]
