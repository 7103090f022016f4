"""Full-text search on Postgres: the FTS5-style MATCH grammar callers send, read as tsqueries, and BM25 scored from
ts_rank_cd term frequencies over each passage's generated tsvector (as FTS5's bm25 with the title at 0.3).

Imports psycopg's row type only; bot.store.postgres runs these queries.
"""

from __future__ import annotations

import math
import re
from typing import Any

from psycopg import Connection
from psycopg.rows import DictRow

from bot.store.scope import scope_clause

TS_CONFIG = "english"
# ts_rank_cd weights {D, C, B, A}: passage text is A, the title (on passage 0) is B; as bm25(1.0, 0.3).
_WEIGHTS = "'{0, 0, 0.3, 1.0}'::float4[]"
_K1, _B = 1.2, 0.75  # BM25 constants, FTS5's defaults
_TOKEN = re.compile(r'"((?:[^"]|"")*)"|(\S+)')


def parse_match(match: str) -> list[list[str]]:
    """An FTS5-style expression -> OR-groups of AND-ed terms: '"a" AND "b" OR "c"' -> [[a, b], [c]].

    Quoted strings are terms (a doubled quote is a quote); bare AND/OR are operators (AND binds
    tighter, as in FTS5); any other bare word is a term too. Nothing else is syntax, and every
    term reaches SQL as a parameter.
    """
    groups: list[list[str]] = [[]]
    for m in _TOKEN.finditer(match):
        quoted, bare = m.group(1), m.group(2)
        if quoted is None and bare == "OR":
            groups.append([])
        elif quoted is None and bare == "AND":
            continue
        else:
            term = (quoted.replace('""', '"') if quoted is not None else bare).strip()
            if term:
                groups[-1].append(term)
    return [g for g in groups if g]


class TsQuery:
    """A parsed MATCH expression as SQL: one named parameter per distinct term."""

    def __init__(self, match: str) -> None:
        self.groups = parse_match(match)
        self.terms: list[str] = list(dict.fromkeys(t for g in self.groups for t in g))
        self.params: dict[str, Any] = {f"t{i}": t for i, t in enumerate(self.terms)}

    def term(self, i: int) -> str:
        """The i-th term's tsquery (a phrase when the term has several words)."""
        return f"phraseto_tsquery('{TS_CONFIG}', %(t{i})s)"

    def expr(self) -> str:
        """The whole expression: && within a group, || between groups."""
        index = {t: i for i, t in enumerate(self.terms)}
        ors = ["(" + " && ".join(self.term(index[t]) for t in g) + ")" for g in self.groups]
        return "(" + " || ".join(ors) + ")"


def idf(c: Connection[DictRow], q: TsQuery) -> tuple[list[float], float]:
    """Each term's inverse document frequency over passages (FTS5's formula) and the mean passage length."""
    dfs = ", ".join(f"count(*) FILTER (WHERE tsv @@ {q.term(i)}) AS df{i}" for i in range(len(q.terms)))
    r = c.execute(
        f"SELECT (SELECT count(*) FROM passages) AS n,"
        f' (SELECT COALESCE(avg(p."end" - p.start), 1) FROM passages p) AS avglen, {dfs}'
        f" FROM passages WHERE tsv @@ {q.expr()}", q.params).fetchone()
    assert r is not None
    n = int(r["n"])
    weights = [max(1e-6, math.log((n - int(r[f"df{i}"]) + 0.5) / (int(r[f"df{i}"]) + 0.5)))
               for i in range(len(q.terms))]
    return weights, max(1.0, float(r["avglen"]))


def search_sql(q: TsQuery, idf: tuple[list[float], float], sources: list[str] | None, since: str | None,
               limit: int) -> tuple[str, dict[str, Any]]:
    """The ranked search: BM25 where each term's (weighted) frequency is ts_rank_cd of that term alone."""
    weights, avglen = idf
    args: dict[str, Any] = dict(q.params)
    tfs = ", ".join(f"ts_rank_cd({_WEIGHTS}, p.tsv, {q.term(i)}, 0) AS tf{i}" for i in range(len(q.terms)))
    norm = f'{_K1} * (1 - {_B} + {_B} * (p."end" - p.start) / %(avglen)s::float8)'
    score = " + ".join(f"%(idf{i})s::float8 * tf.tf{i} * {_K1 + 1} / (tf.tf{i} + {norm})" for i in range(len(q.terms)))
    args.update({f"idf{i}": w for i, w in enumerate(weights)}, avglen=avglen)
    where = f"p.tsv @@ {q.expr()}"
    if sources:
        clause, likes = scope_clause("d.location", sources, "%s")
        parts = clause.split("%s")  # the clause's placeholders, named for this query's parameter dict
        where += " AND " + "".join(part + (f"%(src{i})s" if i < len(likes) else "") for i, part in enumerate(parts))
        args.update({f"src{i}": like for i, like in enumerate(likes)})
    if since:
        where += " AND COALESCE(d.published, d.fetched) >= %(since)s"
        args["since"] = since
    args["limit"] = limit
    # OFFSET 0 keeps the lateral subquery whole, so each term's ts_rank_cd runs once per matching row
    query = (
        f'SELECT p.doc_id, p.ordinal, p.start, p."end", p.text AS span, ({score}) AS score,'
        " d.location, d.title, d.url, d.outlet, d.published"
        f" FROM passages p JOIN documents d ON d.id = p.doc_id CROSS JOIN LATERAL (SELECT {tfs} OFFSET 0) tf"
        f" WHERE {where} ORDER BY score DESC, p.id LIMIT %(limit)s"
    )
    return query, args
