"""Source scopes as SQL and as Python: which document locations a scope pattern names, the same on every dialect.

Imports nothing from the bot; the stores and the search code both use it.
"""

from __future__ import annotations

import functools
import re


def escape_like(s: str) -> str:
    """`s` with LIKE's wildcards and the escape character escaped (for `LIKE ? ESCAPE '\\'`)."""
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def scope_likes(pattern: str) -> list[tuple[str, bool]]:
    """The LIKE patterns (escaped) of the document locations a scope pattern names — a source's identity, never
    any text that happens to contain it — each with whether it applies to files only (not to http(s) URLs):

    - an absolute path or a URL names itself and what lies under it ("/data/news", "https://example.com/feed");
    - a relative path or a file name names the files whose path passes through it or ends with it, by whole
      components ("corpus/bbc", "harbour-strike-gazette.txt", or without its extension), never a URL that
      carries it in its path or query;
    - a host name names the pages of that site and its subdomains ("example.com");
    - "~name" (made by the answerer for "according to the Gazette", never taken from a user) any location that
      holds the name.
    """
    p = pattern.strip().rstrip("/")
    if p.startswith("~"):
        return [("%" + escape_like(p[1:]) + "%", False)] if len(p) > 1 else []
    if not p:
        return []
    e = escape_like(p)
    if p.startswith("/") or "://" in p:
        return [(e, False), (e + "/%", False)]
    files = [e, f"{e}/%", f"%/{e}", f"%/{e}/%"]
    if "/" not in p and "." not in p:  # a file name without its extension ("harbour-strike-courier")
        files += [f"{e}.%", f"%/{e}.%"]
    out = [(f, True) for f in files]
    if "/" not in p and "." in p:  # "example.com": the site's pages
        out += [(f"{scheme}://{sub}{e}{rest}", False) for scheme in ("http", "https") for sub in ("", "%.")
                for rest in ("", "/%")]
    return out


def scope_clause(column: str, patterns: list[str] | None, mark: str = "?") -> tuple[str, list[str]]:
    """SQL that is true when `column` (a document location) is in one of the scope `patterns` (all when none),
    and its args; `mark` is the placeholder."""
    if not patterns:
        return "1=1", []
    likes = [x for p in patterns for x in scope_likes(p)]
    if not likes:
        return "1=0", []
    files = [like for like, f in likes if f]
    other = [like for like, f in likes if not f]
    ors = [f"{column} LIKE {mark} ESCAPE '\\'" for _ in other]
    if files:
        ors.append(f"({column} NOT LIKE {mark} AND (" +
                   " OR ".join(f"{column} LIKE {mark} ESCAPE '\\'" for _ in files) + "))")
    return "(" + " OR ".join(ors) + ")", other + (["http%://%"] + files if files else [])


def in_scope(location: str, patterns: list[str] | None) -> bool:
    """The same test as scope_clause, in Python (case-insensitive like SQLite's LIKE)."""
    if not patterns:
        return True
    web = bool(re.match(r"https?://", location, re.IGNORECASE))
    return any(_like_regex(like).fullmatch(location) for p in patterns for like, files in scope_likes(p)
               if not (files and web))


@functools.lru_cache(maxsize=1024)
def _like_regex(like: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(like):
        c = like[i]
        if c == "\\" and i + 1 < len(like):
            out.append(re.escape(like[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)
