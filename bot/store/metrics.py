"""The LLM call log and the counters `usage` and /metrics report (the Metrics role), written once for every dialect.

Imports no driver.
"""

from __future__ import annotations

from typing import Any

from bot.store.base import CallTotals, Counters
from bot.store.dialect import Queries, now


class MetricsSQL(Queries):
    """The Metrics role over a dialect."""

    def log_llm_call(self, rec: dict[str, Any]) -> int:
        """One row per LLM call: prompt name and hash, model, tokens, latency, outcome; returns its id."""
        with self.db.tx() as tx:
            return self.db.insert(
                tx, "INSERT INTO llm_calls (at, purpose, prompt_name, prompt_hash, model, tokens_in, tokens_out,"
                " estimated, latency_ms, outcome, error, attempts, server, structured)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (now(), rec.get("purpose"), rec.get("prompt_name"), rec.get("prompt_hash"), rec.get("model"),
                 rec.get("tokens_in"), rec.get("tokens_out"), int(bool(rec.get("estimated"))), rec.get("latency_ms"),
                 rec.get("outcome") or "unknown", rec.get("error"), rec.get("attempts"), rec.get("server"),
                 rec.get("structured")))

    def llm_call_outcome(self, call_id: int, result: str, detail: str = "") -> None:
        """What became of a call's reply: verified, partly_dropped, fell_back, timed_out or refused, and why."""
        with self.db.tx() as tx:
            tx.execute(self.db.sql("UPDATE llm_calls SET result = ?, detail = ? WHERE id = ?"),
                       (result, detail or None, call_id))

    def llm_calls(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest calls, newest first."""
        return [dict(r) for r in self._all("SELECT * FROM llm_calls ORDER BY id DESC LIMIT ?", (limit,))]

    def llm_structured(self, server: str) -> str | None:
        """The structured-output mode a server last answered with (what `auto` starts from next run)."""
        rows = self._all("SELECT structured FROM llm_calls WHERE server = ? AND structured IS NOT NULL"
                         " AND outcome IN ('ok', 'invalid_json', 'empty') ORDER BY id DESC LIMIT 1", (server,))
        return str(rows[0]["structured"]) if rows else None

    def llm_usage(self, since: str) -> list[dict[str, Any]]:
        """Calls, tokens and outcomes per model, purpose and result since an ISO time."""
        rows = self._all(
            "SELECT model, purpose, COALESCE(result, CASE WHEN outcome = 'ok' THEN 'unchecked' ELSE outcome END)"
            " AS result, COUNT(*) AS calls, COALESCE(SUM(tokens_in), 0) AS tokens_in,"
            " COALESCE(SUM(tokens_out), 0) AS tokens_out, COUNT(*) FILTER (WHERE outcome = 'ok') AS ok,"
            " MAX(estimated) AS estimated, AVG(latency_ms) AS latency_ms FROM llm_calls WHERE at >= ?"
            " GROUP BY 1, 2, 3 ORDER BY 1, 2, 4 DESC, 3", (since,))
        return [dict(r) for r in rows]

    def feedback_counts(self) -> dict[str, int]:
        """Helpful and not-helpful votes so far."""
        r = self._all("SELECT COALESCE(SUM(helpful), 0) AS yes, COUNT(*) AS n FROM feedback")[0]
        return {"helpful": int(r["yes"]), "not_helpful": int(r["n"]) - int(r["yes"])}

    def counters(self) -> Counters:
        """Documents, ingest items by outcome, answers by backend and found, LLM calls by outcome with their tokens
        and time, digest slots by status."""
        calls = self._all("SELECT outcome, COUNT(*) AS n, COALESCE(SUM(tokens_in), 0) AS tokens_in,"
                          " COALESCE(SUM(tokens_out), 0) AS tokens_out, COALESCE(SUM(latency_ms), 0) AS latency_ms"
                          " FROM llm_calls GROUP BY outcome ORDER BY outcome")
        return Counters(
            documents=int(self._all("SELECT COUNT(*) AS n FROM documents")[0]["n"]),
            ingested={r["outcome"]: int(r["n"]) for r in self._all(
                "SELECT outcome, COUNT(*) AS n FROM ingest_items GROUP BY outcome ORDER BY outcome")},
            answers={(r["backend"], bool(r["found"])): int(r["n"]) for r in self._all(
                "SELECT backend, found, COUNT(*) AS n FROM answers GROUP BY backend, found ORDER BY backend, found")},
            calls={r["outcome"]: CallTotals(int(r["n"]), int(r["tokens_in"]), int(r["tokens_out"]),
                                            float(r["latency_ms"])) for r in calls},
            claims={r["status"]: int(r["n"]) for r in self._all(
                "SELECT status, COUNT(*) AS n FROM digest_claims GROUP BY status ORDER BY status")})
