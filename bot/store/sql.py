"""The store's SQL, written once: every role (bot.store.base) over one dialect object, which supplies
connections, transactions, placeholders, locks and full-text search.

Imports no driver; bot.store.sqlite and bot.store.postgres each pair it with their dialect and migration steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.store.chat import ChannelsSQL, ConversationsSQL
from bot.store.dialect import Dialect
from bot.store.documents import DocumentsSQL
from bot.store.metrics import MetricsSQL
from bot.store.migrations import Step, migrate, pending
from bot.store.records import SourcesSQL, StoriesSQL
from bot.store.vectors import VectorsSQL


class SQLStore(DocumentsSQL, VectorsSQL, StoriesSQL, SourcesSQL, ConversationsSQL, ChannelsSQL, MetricsSQL):
    """A Store (bot.store.base) over `db`, migrated by `steps` when opened."""

    def __init__(self, db: Dialect, steps: list[Step]) -> None:
        self.db, self.steps = db, steps
        self.migrate()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group many writes in one transaction (each document still all-or-nothing): bulk ingest speed.

        A crash loses at most the open batch, never part of a document; a re-run redoes it.
        """
        with self.db.tx():
            yield

    def close(self) -> None:
        """Close every connection this store opened (in this process)."""
        self.db.close()

    def migrate(self) -> int:
        """Apply the migration steps this database lacks; returns how many steps the schema has."""
        return migrate(self.db, self.steps)

    def integrity_check(self) -> str:
        """'ok' when the database's own checks find it sound and every migration step is recorded."""
        problems = [p for p in (self.db.integrity_check(),) if p != "ok"]
        missing = pending(self.db, self.steps)
        if missing:
            problems.append(f"migration steps not recorded: {', '.join(missing)}")
        return "; ".join(problems) or "ok"

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        """Read-only escape hatch for tests and benchmarks, in the driver's own placeholders."""
        return self.db.execute(sql, args)
