"""What one SQL backend supplies to the shared store: connections and transactions, its placeholder, its words for
upserts' neighbours (case-insensitive LIKE, row locks), full-text search, and a document's parts.

The shared SQL (bot.store.sql and its role modules) is written with `?` placeholders and every value passed as a
parameter (no `?` inside a string literal); `sql()` turns it into the dialect's. Imports only the store's rows.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.store.base import NewDocument, PassageHit


class Row(Protocol):
    """A result row by column name (sqlite3.Row and psycopg's dict rows alike)."""

    def __getitem__(self, key: str, /) -> Any: ...
    def keys(self) -> Any: ...


class Cursor(Protocol):
    """The part of a DB-API cursor the shared SQL uses."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The part of a connection the shared SQL uses: one statement at a time."""

    def execute(self, sql: Any, params: Any = ..., /) -> Cursor: ...


def now() -> str:
    """UTC now as ISO 8601 (seconds): every time the store writes is this shape, so text compares as time."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class Dialect(ABC):
    """One backend's connection handling and SQL differences; everything else is shared."""

    name: str
    mark: str  # the placeholder the driver takes
    ci_like = "LIKE"  # a case-insensitive LIKE
    key_share = ""  # locks a row read before a write that refers to it (none needed where writes serialise)
    passage_text = "p.text"  # a passage's text, in SQL over `passages p` (joined by `text_join`)
    text_join = ""
    item_order = "id"  # the column ordering a run's ingest items
    max_params = 10_000  # parameters in one statement, at most
    types: dict[str, str]  # the DDL words migration steps are written with: {ID}, {SEQ}, {KEY}, {BLOB}, {REAL}
    Error: type[Exception]  # the driver's base error
    IntegrityError: type[Exception]  # a unique or foreign key violation

    def sql(self, text: str) -> str:
        """Shared SQL (with `?` placeholders) in this dialect."""
        return text

    # -- connections and transactions --------------------------------------------------------
    @abstractmethod
    def conn(self) -> Connection:
        """This thread's connection, opened on first use; reads outside a transaction are each their own."""

    @abstractmethod
    def tx(self) -> AbstractContextManager[Connection]:
        """A transaction (a savepoint inside a batch): all of it or none of it lands."""

    def write(self) -> AbstractContextManager[Connection]:
        """The scope of a write that is atomic by itself: its own transaction, or a savepoint inside a batch."""
        return self.tx()

    @abstractmethod
    def close(self) -> None:
        """Close every connection opened."""

    @abstractmethod
    def many(self, tx: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run shared `sql` once for each of `rows`; how many rows it changed."""

    @abstractmethod
    def insert(self, tx: Connection, sql: str, args: Sequence[Any]) -> int:
        """Run shared `sql`, an INSERT of one row into a table with an `id` column; the id the row was given."""

    def lock(self, tx: Connection, key: int) -> None:
        """Hold `key` until `tx` ends, so two processes do one thing in turn (a no-op where writes serialise)."""
        return

    def ints_in(self, column: str, ids: list[int]) -> tuple[str, list[Any]]:
        """SQL true when `column` is one of `ids` (at most max_params of them), and its args."""
        return f"{column} IN ({','.join('?' * len(ids))})", list(ids)

    @abstractmethod
    def has_table(self, tx: Connection, name: str) -> bool:
        """Whether the database has a table called `name`."""

    # -- documents and search ----------------------------------------------------------------
    @abstractmethod
    def insert_parts(self, tx: Connection, doc_id: int, doc: NewDocument) -> None:
        """Store a new document's passages (and their index), sketch, quotes and speaker index."""

    @abstractmethod
    def delete_parts(self, tx: Connection, doc_id: int) -> None:
        """Remove a document's passages (and their index), sketch and quotes, before a new version's go in."""

    @abstractmethod
    def speaker_clause(self, token: str) -> tuple[str, str]:
        """SQL true when quote `q`'s speaker has the word `token`, and its arg."""

    @abstractmethod
    def search(self, match: str, limit: int, sources: list[str] | None, since: str | None) -> list[PassageHit]:
        """BM25 over passages for an FTS5-style MATCH expression, best first."""

    @abstractmethod
    def count_matches(self, match: str) -> int:
        """Passages a MATCH expression matches (0 for one the index cannot read)."""

    def terms_like(self, prefix: str, limit: int) -> list[str] | None:
        """Indexed word stems starting with `prefix`, or None when the dialect keeps no vocabulary."""
        return None

    # -- maintenance -------------------------------------------------------------------------
    @abstractmethod
    def integrity_check(self) -> str:
        """'ok' when the database's own checks find it sound, else what is wrong."""

    def reason(self, error: Exception) -> str:
        """A driver error in one line, for a message."""
        return (str(error).strip() or type(error).__name__).splitlines()[0]

    def migration_failed(self, error: Exception, step: str) -> Exception:
        """What to raise when migration `step` failed with the driver's `error`."""
        return error

    @abstractmethod
    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        """Read-only escape hatch for tests and benchmarks, in the driver's own placeholders."""


class Queries:
    """What every role's shared SQL runs through: the dialect, with reads and lone writes in its placeholder."""

    db: Dialect

    def _one(self, sql: str, args: Sequence[Any] = ()) -> Any:
        """The first row of a read (None when none)."""
        return self.db.conn().execute(self.db.sql(sql), args).fetchone()

    def _all(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        """Every row of a read."""
        return self.db.conn().execute(self.db.sql(sql), args).fetchall()

    def _run(self, sql: str, args: Sequence[Any] = ()) -> int:
        """One write statement in its own transaction (a savepoint inside a batch); the rows it changed."""
        with self.db.tx() as tx:
            return int(tx.execute(self.db.sql(sql), args).rowcount)
