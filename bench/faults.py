"""Fault injection for ingestion: malformed files and URLs, and SIGKILL mid-ingest; prints the figures.
Then the network- and user-facing faults of bench/faults_service.py (HTTP, bounds, processes, CLI).

    python bench/faults.py [--per-kind 12] [--kill 20] [--seed 7] [--corpus ../shared/corpus/bbc] [--no-service]

Also the library `tests/test_faults.py` uses (smaller counts). Imports bot only to ingest and check.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BBC = ROOT.parent / "shared" / "corpus" / "bbc"
HTML_FIXTURES = ROOT / "tests" / "fixtures" / "web"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
STORED = {"new", "updated", "unchanged", "duplicate", "near-duplicate"}

# Inputs the pipeline gets wrong today (reported with their fix); the tests check every other kind.
# Emptied when the fixes for UTF-16/32 BOMs, EUC-JP, control characters and heading-only .md landed.
KNOWN_GAPS: dict[str, str] = {}


@dataclass
class Case:
    """One generated input: where it is, what it is, and what the pipeline should do with it."""

    path: Path
    kind: str
    expect: str  # "store", "skip", "either" or "ignored" (no outcome: not an input)
    reason: str = "."  # a regex the skip reason must match
    must_contain: str = ""  # stored text must hold this (proves it was decoded right)


# --- generating inputs -------------------------------------------------------------------------

_PEOPLE = ["Amara Okafor", "Lena Vogel", "Tomasz Nowak", "Priya Raman", "Jonas Berg", "Carmen Ruiz",
           "Idris Haddad", "Mei Lin", "Oskar Lund", "Hana Sato", "Rafael Souza", "Nadia Petrova"]
_ROLES = ["the mayor", "a union leader", "the transport minister", "a council spokesperson", "the harbour master",
          "an economist at the central bank", "the chief executive", "a local shopkeeper"]
_PLACES = ["Saltwick", "Northmere", "Port Alder", "Kestrel Bay", "Ivybridge", "Lowmoor", "Castleford", "Eastwold"]
_TOPICS = ["tram line", "ferry pier", "hospital wing", "bus depot", "flood barrier", "library", "wind farm",
           "rail bridge", "market hall", "school roof"]
_VERBS = ["approved", "delayed", "rejected", "funded", "reopened", "closed", "reviewed", "expanded"]
_JP = ["東京で金曜日、首相は港が来週再開すると述べた。", "ストライキは終わった。", "労働組合の代表は「満足している」と語った。",
       "市議会は路面電車の延伸を承認した。", "費用は約{n}億円になる見込みだ。"]


def article(rng: random.Random, extra: str = "") -> tuple[str, str]:
    """A unique, plausible news article (title, body) with an attributed quote."""
    place, topic, verb = rng.choice(_PLACES), rng.choice(_TOPICS), rng.choice(_VERBS)
    who, role = rng.choice(_PEOPLE), rng.choice(_ROLES)
    n, m = rng.randint(2, 990), rng.randint(3, 60)
    title = f"{place} council {verb} the {topic} plan after {m} days of talks"
    paras = [
        f"The council in {place} {verb} plans for the {topic} on {rng.choice(['Monday', 'Tuesday', 'Friday'])}, "
        f"ending {m} days of talks that had divided residents and {n} local businesses.{extra}",
        f"“We have listened to every objection and the {topic} will be better for it,” said {who}, {role}. "
        f"Opponents said the cost, put at £{n} million, was too high for a town of its size.",
        f"Work is due to start in {rng.choice(['spring', 'autumn', 'March', 'October'])} and take "
        f"{rng.randint(2, 40)} months, officials in {place} said, with a public meeting planned next week.",
    ]
    return title, "\n\n".join(paras)


def _text_file(rng: random.Random, extra: str = "") -> str:
    title, body = article(rng, extra)
    return f"{title}\n\n{body}\n"


def _html(title: str, body: str) -> str:
    paras = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{paras}</article></body></html>")


def _bomb(levels: int, fanout: int, root: str) -> str:
    ents = '<!ENTITY e0 "lol">' + "".join(
        f'<!ENTITY e{i} "{("&e" + str(i - 1) + ";") * fanout}">' for i in range(1, levels))
    return f'<?xml version="1.0"?><!DOCTYPE {root} [{ents}]>'


def make_inputs(folder: Path, *, per_kind: int = 12, seed: int = 0, big: bool = True,
                line_words: tuple[int, ...] = (200_000, 600_000)) -> list[Case]:
    """Write malformed (and some good) inputs into `folder`; return what each one should give.

    `line_words`: the sizes (in words) of the single-line files, one file each.
    """
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def put(name: str, data: bytes | str, kind: str, expect: str, reason: str = ".", must: str = "") -> Path:
        p = folder / name
        if isinstance(data, str):
            p.write_text(data, encoding="utf-8", newline="")
        else:
            p.write_bytes(data)
        cases.append(Case(p, kind, expect, reason, must))
        return p

    magic = [b"\x89PNG\r\n\x1a\n", b"\x1f\x8b\x08\x00", b"\x7fELF\x02\x01\x01\x00", b"%PDF-1.7\n%\xe2\xe3",
             b"PK\x03\x04", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"]
    for i in range(per_kind):
        size = rng.choice([16, 200, 4096, 70_000])
        put(f"binary-{i:03}.txt", magic[i % len(magic)] + rng.randbytes(size), "binary-as-txt", "skip",
            r"binary|undecodable")
    for i in range(per_kind):
        size = rng.choice([64, 1000, 9000, 50_000])
        put(f"random-{i:03}.txt", bytes(rng.randrange(1, 256) for _ in range(size)), "random-bytes", "skip",
            r"binary|undecodable|no text")
    if big:
        for name in ("huge-50mb.txt", "huge-50mb.html"):
            with open(folder / name, "wb") as f:  # sparse: instant, and takes no disk
                f.truncate(50 * 1024 * 1024)
            cases.append(Case(folder / name, "over-50mb", "skip", r"over the [\d,]+-byte limit"))
    for i in range(per_kind):
        t = _text_file(rng)
        enc = "utf-16-le" if i % 2 else "utf-16-be"
        bom = b"\xff\xfe" if i % 2 else b"\xfe\xff"
        put(f"utf16-bom-{i:03}.txt", bom + t.encode(enc), "utf16-bom", "store", must=t.split("\n")[2][:40])
        put(f"utf16-nobom-{i:03}.txt", _text_file(rng).encode(enc), "utf16-nobom", "either", r"NUL|binary|UTF-16")
    for i in range(per_kind):
        t = _text_file(rng, extra=" Café owners in Zürich and São Paulo watched closely.")
        put(f"latin1-{i:03}.txt", t.replace("“", '"').replace("”", '"').replace("£", "GBP ").encode("latin-1"),
            "latin-1", "store", must="Café owners in Zürich and São Paulo")
        t = _text_file(rng)
        put(f"cp1252-{i:03}.txt", t.encode("cp1252"), "cp1252", "store", must="£")
    for i in range(per_kind):
        jp = "".join(rng.sample(_JP, len(_JP))).format(n=rng.randint(10, 99999)) * 3
        put(f"sjis-{i:03}.txt", f"ニュース {i}\n\n{jp}\n".encode("shift_jis"), "shift-jis", "store", must=_JP[1])
        jp = "".join(rng.sample(_JP, len(_JP))).format(n=rng.randint(10, 99999)) * 3
        put(f"eucjp-{i:03}.txt", f"ニュース {i}\n\n{jp}\n".encode("euc_jp"), "euc-jp", "store", must=_JP[1])
    pages = [p.read_bytes() for p in sorted(HTML_FIXTURES.glob("*.html"))]
    for i in range(per_kind):
        page = _html(*article(rng)).encode() if i % 2 else rng.choice(pages)
        put(f"truncated-{i:03}.html", page[: rng.randint(1, len(page) - 1)], "truncated-html", "either",
            r"no article|could not be parsed|no text|empty")
    for i in range(per_kind):
        title, body = article(rng)
        inner = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
        tag = ["div", "span", "section", "blockquote"][i % 4]
        closed = i % 3 != 2
        html = (f"<html><head><title>{title}</title></head><body>" + f"<{tag}>" * 10_000 + inner
                + (f"</{tag}>" * 10_000 if closed else "") + "</body></html>")
        put(f"nested-{i:03}.html", html, "nested-html", "either", r"no article|could not be parsed")
    for i in range(per_kind):
        html = [
            "<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a> <a href='/sport'>Sport</a></nav></body></html>",
            "<html><head><script>var x = 1;</script></head><body><script>document.write('hi')</script></body></html>",
            "<html><body><!-- article goes here --></body></html>",
            "<html><head><title>Only a title</title></head><body></body></html>",
            "<html><body><img src='a.png'><img src='b.png'></body></html>",
            "<?xml version='1.0'?><rss><channel><title>not html</title></channel></rss>",
        ][i % 6]
        put(f"no-article-{i:03}.html", html, "no-article-html", "skip", r"no article|could not be parsed")
    for i in range(per_kind):
        blank = ["", " ", "\n\n\n", "\t \r\n  \t", "\u00a0\u2003\u3000\n", "\u200b\u200c\u200d\ufeff" * 50][i % 6]
        put(f"empty-{i:03}.{['txt', 'md', 'html'][i % 3]}", blank, "empty", "skip",
            r"empty|white space|no article text|no text")
    for i in range(per_kind):
        t = _text_file(rng)
        cut = rng.randint(1, len(t) - 1)
        put(f"nul-{i:03}.txt", (t[:cut] + "\x00" * rng.randint(1, 40) + t[cut:]).encode(), "nul-bytes", "skip",
            r"binary")
        late = (_text_file(rng) + "\n" + " ".join(article(rng)[1] for _ in range(20))).encode()
        assert len(late) > 8192  # past the part decode() looks at
        put(f"late-nul-{i:03}.txt", late + b"\x00\x01\x02\x03" * 50 + b"\n" + _text_file(rng).encode(),
            "late-nul", "either", r"binary")
    for i, n in enumerate(line_words):
        words = [w for p in (article(rng)[1] for _ in range(20)) for w in p.split()]
        put(f"one-line-{i:03}.txt", " ".join(rng.choice(words) for _ in range(n)), "huge-line", "store")
    for i in range(per_kind):
        t = _text_file(rng)
        zw = "".join(c + (rng.choice("\u200b\u200c\u200d\u2060\ufeff\u00ad") if c == " " and rng.random() < 0.3
                          else "") for c in t)
        put(f"zero-width-{i:03}.txt", zw, "zero-width", "store", must=t.split("\n")[2][:30])
    for i in range(per_kind):
        t = _text_file(rng)
        few = "".join(c + (rng.choice("\x01\x07\x08\x1b\x7f") if c == "." and rng.random() < 0.5 else "")
                      for c in t)
        put(f"few-controls-{i:03}.txt", few, "few-controls", "store")
        many = "".join(c + rng.choice("\x01\x02\x03\x04\x05\x06\x0e\x1b") for c in _text_file(rng)[:3000])
        put(f"many-controls-{i:03}.txt", many, "many-controls", "skip", r"binary|control")
    for i in range(per_kind):
        t = _text_file(rng)
        mixed = "".join(rng.choice(["\r\n", "\r", "\n", "\r\r\n"]) if c == "\n" else c for c in t)
        put(f"mixed-newlines-{i:03}.txt", mixed, "mixed-newlines", "store", must=t.split("\n")[2][:30])
    for i in range(per_kind):
        heads = "\n\n".join("#" * rng.randint(1, 4) + " " + article(rng)[0] for _ in range(rng.randint(1, 6)))
        put(f"headings-{i:03}.md", heads + "\n", "md-headings-only", "skip", r"no article|heading|no text")
    for i in range(per_kind):
        title, body = article(rng)
        levels, fanout = rng.choice([(10, 10), (12, 10), (30, 2), (5, 100)])
        html = (_bomb(levels, fanout, "html") + f"<html><body><p>&e{levels - 1};</p>"
                + "".join(f"<p>{p}</p>" for p in body.split("\n\n")) + "</body></html>")
        put(f"entity-bomb-{i:03}.html", html, "entity-bomb-html", "either", r"no article|could not be parsed")
    for i in range(max(2, per_kind // 3)):
        os.symlink(f"self-loop-{i:03}.txt", folder / f"self-loop-{i:03}.txt")
        cases.append(Case(folder / f"self-loop-{i:03}.txt", "symlink-loop", "skip", r"symbolic links"))
        os.symlink(f"pair-b-{i:03}.txt", folder / f"pair-a-{i:03}.txt")
        os.symlink(f"pair-a-{i:03}.txt", folder / f"pair-b-{i:03}.txt")
        cases += [Case(folder / f"pair-{x}-{i:03}.txt", "symlink-loop", "skip", r"symbolic links") for x in "ab"]
        os.symlink(f"/nonexistent/briefbot-{i}.txt", folder / f"dangling-{i:03}.txt")
        cases.append(Case(folder / f"dangling-{i:03}.txt", "dangling-symlink", "skip", r"No such file"))
    loop = folder / "loop-dir"
    loop.mkdir(exist_ok=True)
    os.symlink("..", loop / "up")  # a directory loop: the walk must not follow it
    os.symlink(str(folder), loop / "again.txt")  # a directory behind a .txt name
    # a folder symlink is not followed (so loops cannot hang the walk), whatever its name
    cases.append(Case(loop / "again.txt", "symlink-to-dir", "ignored"))
    os.mkfifo(folder / "fifo.txt")  # reading it would block forever
    cases.append(Case(folder / "fifo.txt", "fifo", "skip", r"empty|not a regular|special"))
    for i in range(max(2, per_kind // 3)):
        p = put(f"unreadable-{i:03}.txt", _text_file(rng), "unreadable", "either", r"permission denied")
        p.chmod(0)  # root reads it anyway: then it is simply stored
    for i in range(max(6, per_kind)):
        title, body = article(rng)
        if i % 3 == 2:
            put(f"good-{i:03}.html", _html(title, body), "good", "store", must=body.split("\n\n")[2][:40])
        else:
            put(f"good-{i:03}.{'md' if i % 3 else 'txt'}", f"{'# ' if i % 3 else ''}{title}\n\n{body}\n", "good",
                "store", must=body.split("\n\n")[1][:40])
    return cases


# --- judging outcomes --------------------------------------------------------------------------

def garbage(text: str) -> str | None:
    """Why a stored text is garbage (replacement or control characters, mojibake), or None."""
    if not text.strip():
        return "no text"
    if text.count("\ufffd") > max(2, len(text) // 100):
        return f"{text.count(chr(0xFFFD))} U+FFFD replacement characters"
    if n := len(CONTROL.findall(text)):
        return f"{n} control characters"
    letters = [c for c in text if not c.isspace()]
    latin1_symbols = sum(1 for c in letters if "\u00a0" <= c <= "\u00ff")
    if letters and latin1_symbols / len(letters) > 0.2:
        return f"mojibake: {latin1_symbols / len(letters):.0%} of the characters are Latin-1 symbols"
    if "\u200b" in text or "\ufeff" in text:
        return "zero-width characters kept"
    return None


def _locations(path: Path) -> set[str]:
    out = {str(path)}
    try:
        out.add(str(path.resolve()))
    except (OSError, RuntimeError):
        pass
    return out


@dataclass
class Verdict:
    """One case judged against what the ingest did with it."""

    case: Case
    outcome: str
    reason: str
    problem: str | None  # None when the case went as it should


def judge(cases: list[Case], items: list[dict[str, Any]], texts: dict[str, str]) -> list[Verdict]:
    """Match each case to its item and stored text, and say what (if anything) went wrong."""
    by_loc: dict[str, dict[str, Any]] = {}
    for it in items:
        by_loc.setdefault(it["location"], it)
    out: list[Verdict] = []
    for c in cases:
        it = next((by_loc[loc] for loc in _locations(c.path) if loc in by_loc), None)
        if c.expect == "ignored":
            out.append(Verdict(c, "(none)", "", None if it is None else f"not an input, yet {it['outcome']}"))
            continue
        if it is None:
            out.append(Verdict(c, "(none)", "", "no outcome"))
            continue
        outcome, reason = it["outcome"], it["reason"] or ""
        problem = None
        if outcome == "skipped":
            if c.expect == "store":
                problem = f"skipped: {reason}"
            elif not re.search(c.reason, reason):
                problem = f"skip reason {reason!r} does not match {c.reason!r}"
        elif outcome in STORED:
            text = texts.get(it["location"], "") if outcome in {"new", "updated", "unchanged"} else None
            if c.expect == "skip":
                problem = f"stored ({outcome}) but should be skipped"
            elif text is not None and (why := garbage(text)):
                problem = f"stored garbage: {why}"
            elif text is not None and c.must_contain and c.must_contain not in text:
                problem = f"stored text lacks {c.must_contain!r} (decoded wrong?)"
        else:
            problem = f"unexpected outcome {outcome!r}"
        out.append(Verdict(c, outcome, reason, problem))
    return out


def stored_texts(db: Path) -> dict[str, str]:
    """location -> text of every stored document."""
    con = sqlite3.connect(db)
    try:
        return {loc: text for loc, text in con.execute("SELECT location, text FROM documents")}
    finally:
        con.close()


def ingest_api(folder: Path, db: Path, workers: int | None = None) -> list[dict[str, Any]]:
    """Ingest a folder in-process with the real pipeline; the items as dicts."""
    from bot.ingest.pipeline import Ingester
    from bot.quotes import extract_quotes
    from bot.store import open_store

    store = open_store(f"sqlite:///{db}")
    try:
        report = Ingester(store, extract_quotes=extract_quotes, workers=workers).ingest([str(folder)])
        return [dict(i.__dict__) for i in report.items]
    finally:
        store.close()


def run_cli(args: list[str], db: Path, timeout: float = 600, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` in a subprocess, on its own database."""
    full = {**os.environ, "BRIEFBOT_DATABASE_URL": f"sqlite:///{db}", **env}
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=full,
                          cwd=ROOT, timeout=timeout)


# --- malformed URLs ----------------------------------------------------------------------------

Route = Callable[[BaseHTTPRequestHandler], None]


def _reply(status: int, body: bytes = b"", ctype: str = "text/html", headers: dict[str, str] | None = None,
           delay: float = 0.0, drip: float = 0.0, length: int | None = None, close: bool = False) -> Route:
    def send(h: BaseHTTPRequestHandler) -> None:
        time.sleep(delay)
        h.close_connection = close
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body) if length is None else length))
        h.end_headers()
        step = 200 if drip else len(body) or 1
        for i in range(0, len(body), step):
            h.wfile.write(body[i:i + step])
            h.wfile.flush()
            time.sleep(drip)
    return send


def _no_length(body: bytes, ctype: str) -> Route:
    def send(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        for i in range(0, len(body), 65536):
            h.wfile.write(body[i:i + 65536])
    return send


def _hang_up(h: BaseHTTPRequestHandler) -> None:
    h.close_connection = True  # no status line at all


@contextmanager
def fault_site(rng: random.Random) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """A loopback server of broken pages and feeds: (base URL, [(path, reason regex or '' for feeds)])."""
    routes: dict[str, Route] = {}
    cases: list[tuple[str, str]] = []
    title, body = article(rng)
    good = _html(title, body).encode()

    def add(path: str, route: Route, reason: str) -> None:
        routes[path] = route
        cases.append((path, reason))

    add("/404", _reply(404, b"<html>gone</html>"), r"HTTP 404")
    add("/410", _reply(410), r"HTTP 410")
    add("/500", _reply(500, b"oops"), r"HTTP 500")
    add("/503", _reply(503, headers={"Retry-After": "120"}), r"HTTP 503")
    add("/slow", _reply(200, good, delay=3.0), r"timed out")
    add("/drip", _reply(200, good * 3, drip=0.2), r"timed out")
    add("/loop-a", _reply(302, headers={"Location": "/loop-b"}), r"redirect loop")
    routes["/loop-b"] = _reply(302, headers={"Location": "/loop-a"})
    add("/self", _reply(301, headers={"Location": "/self"}), r"redirect loop")
    for i in range(10):
        routes[f"/chain/{i}"] = _reply(307, headers={"Location": f"/chain/{i + 1}"})
    cases.append(("/chain/0", r"too many redirects"))
    add("/png", _reply(200, b"\x89PNG\r\n\x1a\n" + rng.randbytes(500), "image/png"), r"content type image/png")
    add("/json", _reply(200, b'{"a": 1}', "application/json"), r"content type application/json")
    add("/huge", _reply(200, b"<html>" + b"x" * 10, length=2_000_000), r"larger than")
    add("/huge-stream", _no_length(b"<html><body>" + b"<p>word </p>" * 200_000, "text/html"), r"larger than")
    add("/empty", _reply(200, b""), r"no article|content type")
    add("/bad-gzip", _reply(200, b"this is not gzip at all" * 10, headers={"Content-Encoding": "gzip"}),
        r"decode|compressed")
    add("/gzip-bomb", _reply(200, gzip.compress(b"<p>" + b"a" * 30_000_000), headers={"Content-Encoding": "gzip"}),
        r"larger than")
    add("/short", _reply(200, good[:50], length=len(good), close=True), r"network error|incomplete|closed")
    add("/hang-up", _hang_up, r"network error|disconnected|closed")
    add("/nav.html", _reply(200, b"<html><body><nav><a href='/'>Home</a></nav></body></html>"), r"no article")
    nested = ("<html><body>" + "<div>" * 10_000 + "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
              + "</div>" * 10_000 + "</body></html>").encode()
    add("/nested.html", _reply(200, nested), r"no article|could not extract")
    bomb_html = (_bomb(12, 10, "html") + "<html><body><p>&e11;</p></body></html>").encode()
    add("/bomb.html", _reply(200, bomb_html), r"no article|could not extract")
    bomb_feed = (_bomb(12, 10, "rss") + "<rss version='2.0'><channel><title>&e11;</title><item><title>&e11;</title>"
                 "<description>&e11;</description></item></channel></rss>").encode()
    add("/bomb.xml", _reply(200, bomb_feed, "application/rss+xml"), "")
    items = "".join(f"<item><title>Story {i}</title><link>/story/{i}</link><guid>s{i}</guid></item>" for i in range(5))
    whole = f"<?xml version='1.0'?><rss version='2.0'><channel><title>Feed</title>{items}</channel></rss>".encode()
    for i in range(5):
        routes[f"/story/{i}"] = _reply(200, _html(*article(rng)).encode())
    add("/truncated.xml", _reply(200, whole[: len(whole) * 2 // 3], "application/rss+xml"), "")
    add("/garbage.xml", _reply(200, rng.randbytes(3000), "application/rss+xml"), r".")
    broken = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>Broken links</title>"
              b"<item><title>Gone</title><link>/404</link><guid>g1</guid></item>"
              b"<item><title>Slow</title><link>/slow</link><guid>g2</guid></item>"
              b"<item><title>No link, no text</title><guid>g3</guid></item>"
              b"<item><title>Loop</title><link>/loop-a</link><guid>g4</guid><description>Feed text only, "
              b"because the page redirects in a loop; the council met on Friday about it.</description></item>"
              b"<item><title>Good</title><link>/good.html</link><guid>g5</guid></item>"
              b"</channel></rss>")
    add("/broken-links.xml", _reply(200, broken, "application/rss+xml"), "")
    routes["/good.html"] = _reply(200, good)
    add("/utf16.html", _reply(200, b"\xff\xfe" + _html(*article(rng)).encode("utf-16-le"), "text/html"), "")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            route = routes.get(self.path.split("?")[0])
            try:
                (route or _reply(404))(self)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # clients hanging up on purpose (timeouts, size limits) are the point here

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", cases
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def judge_urls(base: str, cases: list[tuple[str, str]], items: list[dict[str, Any]]) -> list[str]:
    """Problems with URL outcomes: an input with no outcome, a reason that does not name the fault."""
    problems: list[str] = []
    for it in items:
        if it["outcome"] == "skipped" and not it["reason"]:
            problems.append(f"{it['location']}: skipped with no reason")
    for path, reason in cases:
        url = base + path
        mine = [it for it in items if it["location"] == url or it["location"].startswith(url + "#")]
        if reason and not any(it["outcome"] == "skipped" and re.search(reason, it["reason"]) for it in mine):
            problems.append(f"{path}: expected a skip matching {reason!r}, got {[(i['outcome'], i['reason']) for i in mine]}")
    return problems


URL_ENV = {"BRIEFBOT_HTTP_TIMEOUT": "1", "BRIEFBOT_MAX_FETCH_BYTES": "1000000"}


def ingest_urls_api(urls: list[str], db: Path) -> list[dict[str, Any]]:
    """Ingest URLs in-process through the app's own wiring (fetcher policy from settings)."""
    from bot.app import App
    from bot.config import Settings

    app = App.from_settings(Settings.from_env({"BRIEFBOT_DATABASE_URL": f"sqlite:///{db}", **URL_ENV}))
    try:
        return [dict(i.__dict__) for i in app.ingester().ingest(urls).items]
    finally:
        app.close()


# --- SIGKILL trials ----------------------------------------------------------------------------

@dataclass
class DbState:
    """What a database holds, and whether it is consistent."""

    integrity: str
    documents: int
    passages: int
    fts_rows: int
    docs_without_passages: int
    bad_passages: int  # FTS text that is not the document's text at the passage's offsets
    content: frozenset[tuple[str, str]]  # (location, content_hash)

    @property
    def consistent(self) -> bool:
        return (self.integrity == "ok" and self.docs_without_passages == 0 and self.fts_rows == self.passages
                and self.bad_passages == 0)


def db_state(db: Path) -> DbState | None:
    """The state of a SQLite database, or None when it does not exist (yet)."""
    if not db.exists():
        return None
    con = sqlite3.connect(db)
    try:
        def one(sql: str) -> Any:
            return con.execute(sql).fetchone()[0]
        if not one("SELECT COUNT(*) FROM sqlite_master WHERE name = 'documents'"):
            return DbState(one("PRAGMA integrity_check"), 0, 0, 0, 0, 0, frozenset())
        bad = 0
        for text, start, end, fts in con.execute(
                'SELECT d.text, p.start, p."end", f.text FROM passages p JOIN documents d ON d.id = p.doc_id '
                "JOIN passages_fts f ON f.rowid = p.id"):
            bad += text[start:end] != fts
        return DbState(
            integrity=one("PRAGMA integrity_check"),
            documents=one("SELECT COUNT(*) FROM documents"),
            passages=one("SELECT COUNT(*) FROM passages"),
            fts_rows=one("SELECT COUNT(*) FROM passages_fts"),
            docs_without_passages=one("SELECT COUNT(*) FROM documents d WHERE NOT EXISTS "
                                      "(SELECT 1 FROM passages p WHERE p.doc_id = d.id)"),
            bad_passages=bad,
            content=frozenset(con.execute("SELECT location, content_hash FROM documents").fetchall()),
        )
    finally:
        con.close()


def kill_at(argv: list[str], env: dict[str, str], when: Callable[[float], bool], limit: float = 600) -> bool:
    """Start argv in its own process group and SIGKILL the group once when(elapsed) is true.

    Returns False when the process finished before the kill.
    """
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    t0 = time.monotonic()
    try:
        while proc.poll() is None and time.monotonic() - t0 < limit:
            if when(time.monotonic() - t0):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.01)
        return False
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def kill_trials(corpus: Path, trials: int, seed: int, work: Path) -> dict[str, Any]:
    """SIGKILL an ingest of `corpus` at random moments; check consistency, then that a re-run converges."""
    rng = random.Random(seed)
    clean_db = work / "clean.db"
    t0 = time.monotonic()
    p = run_cli(["ingest", str(corpus)], clean_db)
    clean_seconds = time.monotonic() - t0
    assert p.returncode == 0, p.stderr
    clean = db_state(clean_db)
    assert clean is not None and clean.consistent
    rows: list[dict[str, Any]] = []
    for t in range(trials):
        db = work / f"trial-{t}.db"
        at = rng.uniform(0.05, clean_seconds * 0.95)
        env = {**os.environ, "BRIEFBOT_DATABASE_URL": f"sqlite:///{db}"}
        killed = kill_at([sys.executable, "-m", "bot", "ingest", str(corpus)], env, lambda s, at=at: s >= at)
        after = db_state(db)
        rerun = run_cli(["ingest", str(corpus)], db)
        final = db_state(db)
        rows.append({
            "trial": t, "kill_at_s": round(at, 2), "killed": killed,
            "docs_at_kill": after.documents if after else None,
            "consistent_after_kill": after is None or after.consistent,
            "integrity_after_kill": after.integrity if after else "(no database yet)",
            "rerun_exit": rerun.returncode,
            "converged": final is not None and final.consistent and final.content == clean.content
            and (final.passages, final.fts_rows) == (clean.passages, clean.fts_rows),
        })
        db.unlink(missing_ok=True)
    return {"clean_seconds": round(clean_seconds, 2), "clean_documents": clean.documents,
            "clean_passages": clean.passages, "trials": rows}


# --- the report --------------------------------------------------------------------------------

def _print_verdicts(title: str, verdicts: list[Verdict], exit_code: int, seconds: float) -> None:
    by_kind: dict[str, Counter[str]] = {}
    for v in verdicts:
        by_kind.setdefault(v.case.kind, Counter())[v.outcome] += 1
    bad = [v for v in verdicts if v.problem]
    print(f"\n{title}: {len(verdicts)} inputs, exit {exit_code}, {seconds:.1f} s; "
          f"{len(verdicts) - len(bad)} as expected, {len(bad)} not")
    for kind, c in by_kind.items():
        reasons = sorted({v.reason for v in verdicts if v.case.kind == kind and v.reason})
        shown = "; ".join(r[:60] for r in reasons[:2])
        print(f"  {kind:18} {dict(c)}" + (f"  e.g. {shown}" if shown else ""))
    for kind in sorted({v.case.kind for v in bad}):
        vs = [v for v in bad if v.case.kind == kind]
        gap = "  [known gap]" if kind in KNOWN_GAPS else ""
        print(f"  ! {kind}: {len(vs)} x {vs[0].problem} (e.g. {vs[0].case.path.name}){gap}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--per-kind", type=int, default=12, help="variants of each kind of malformed file")
    ap.add_argument("--kill", type=int, default=20, help="SIGKILL trials (0 to skip)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--corpus", type=Path, default=BBC)
    ap.add_argument("--issue14-only", action="store_true", help="only the issue-14 cases (seconds, no ingest runs)")
    ap.add_argument("--no-service", action="store_true",
                    help="skip the HTTP, input-bounds, process and CLI faults (bench/faults_service.py)")
    a = ap.parse_args(argv)
    if a.issue14_only:
        return 1 if issue14_report() else 0
    work = Path(tempfile.mkdtemp(prefix="briefbot-faults-"))
    try:
        folder = work / "inputs"
        cases = make_inputs(folder, per_kind=a.per_kind, seed=a.seed)
        print(f"generated {len(cases)} inputs of {len({c.kind for c in cases})} kinds in {folder}")
        t0 = time.monotonic()
        items = ingest_api(folder, work / "api.db")
        _print_verdicts("pipeline (Ingester, in-process)", judge(cases, items, stored_texts(work / "api.db")), 0,
                        time.monotonic() - t0)
        t0 = time.monotonic()
        p = run_cli(["ingest", str(folder), "--json"], work / "cli.db")
        cli_items = json.loads(p.stdout)["items"] if p.returncode == 0 else []
        _print_verdicts("CLI (python -m bot ingest DIR --json)",
                        judge(cases, cli_items, stored_texts(work / "cli.db")), p.returncode, time.monotonic() - t0)
        if p.returncode:
            print("  CLI crashed:", p.stderr.strip().splitlines()[-1])

        odd = work / "odd-name"
        odd.mkdir()
        (odd / os.fsdecode(b"caf\xe9-latin1-name.txt")).write_text(_text_file(random.Random(1)), encoding="utf-8")
        p = run_cli(["ingest", str(odd), "--json"], work / "odd.db")
        last = p.stderr.strip().splitlines()[-1] if p.returncode else "ok"
        print(f"\nfile name that is not UTF-8 (b'caf\\xe9-latin1-name.txt'): exit {p.returncode}: {last}")

        with fault_site(random.Random(a.seed)) as (base, url_cases):
            urls = [base + path for path, _ in url_cases] + [f"http://127.0.0.1:{closed_port()}/refused"]
            t0 = time.monotonic()
            uitems = ingest_urls_api(urls, work / "urls.db")
            problems = judge_urls(base, url_cases, uitems)
            seconds = time.monotonic() - t0
            p = run_cli(["ingest", *urls, "--json"], work / "urls-cli.db", **URL_ENV)
            cli_problems = judge_urls(base, url_cases, json.loads(p.stdout)["items"]) if p.returncode == 0 else []
        print(f"\nURLs: {len(urls)} inputs -> {len(uitems)} items in {seconds:.1f} s "
              f"({Counter(i['outcome'] for i in uitems)}); problems: {len(problems)}; CLI exit {p.returncode}, "
              f"problems {len(cli_problems)}")
        for it in uitems:
            print(f"  {it['location'].removeprefix(base):28} {it['outcome']:9} {it['reason'][:80]}")
        for prob in problems + cli_problems:
            print("  !", prob)

        if os.geteuid() == 0 and shutil.which("setpriv"):
            print("\nunreadable files, as an unprivileged user:", unreadable_as_nobody())

        if a.kill and a.corpus.exists():
            res = kill_trials(a.corpus, a.kill, a.seed, work)
            rows = res["trials"]
            print(f"\nSIGKILL trials on {a.corpus.name} ({res['clean_documents']:,} documents, "
                  f"{res['clean_passages']:,} passages; a clean ingest takes {res['clean_seconds']} s):")
            for r in rows:
                print(f"  trial {r['trial']:2}: killed at {r['kill_at_s']:5.2f} s "
                      f"({'killed' if r['killed'] else 'had finished'}), {r['docs_at_kill']} documents, "
                      f"integrity {r['integrity_after_kill']}, consistent {r['consistent_after_kill']}, "
                      f"re-run exit {r['rerun_exit']}, converged {r['converged']}")
            print(f"  trials {len(rows)}, killed mid-run {sum(r['killed'] for r in rows)}, "
                  f"inconsistent after kill {sum(not r['consistent_after_kill'] for r in rows)}, "
                  f"integrity failures {sum(r['integrity_after_kill'] not in ('ok', '(no database yet)') for r in rows)}, "
                  f"converged {sum(r['converged'] for r in rows)}/{len(rows)}")
        issue14_report()
        if not a.no_service:  # the server, input bounds, processes and CLI (ingest runs: a minute or so)
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            import faults_service

            faults_service.main()
        return 0
    finally:
        for p in work.rglob("*"):
            if not p.is_symlink() and p.exists():
                p.chmod(0o700 if p.is_dir() else 0o600)
        shutil.rmtree(work, ignore_errors=True)


# --- issue 14: verified output, rebinding, hidden HTML, chat text and sources ----------------------------------
# Each function tries attacks (and, where a fix could over-reach, honest inputs that must still pass) and returns
# (area, tried, failures). All in-process or on 127.0.0.1; no test contacts a non-loopback address.

_ART = ("Port director Henrik Vale said “We offered retraining for every single worker.”\n\n"
        "“There was no written guarantee. There was a slideshow,” said union leader Marta Quinlan.\n\n"
        "Details were posted at harbour.example/strike, the port said.")


def _verification_fixture() -> tuple[Any, list[Any], list[tuple[str, str]]]:
    from bot.domain import Citation, Document

    doc = Document(id=1, location="harbour.txt", title="Harbour", text=_ART, content_hash="x")
    paras = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", _ART)]
    cites = [Citation(n=i + 1, source="harbour.txt", text=_ART[a:b], doc_id=1, start=a, end=b)
             for i, (a, b) in enumerate(paras)]
    stored = [("We offered retraining for every single worker.", "Henrik Vale"),
              ("There was no written guarantee. There was a slideshow,", "Marta Quinlan")]
    return doc, cites, stored


def verification_cases() -> tuple[str, int, list[str]]:
    """Answers with invented, misattributed or misplaced quotations and planted links must fail verification;
    true ones in any mark style must pass."""
    from bot.citations import misattributed, verify

    doc, cites, stored = _verification_fixture()
    invented = "we never offered anything at all"
    attacks = [f"Vale said {o}{invented}{c} [1]." for o, c in
               ['“”', '""', "‘’", "''", "«»", "„“", "「」", "『』"]]
    attacks += [
        "Vale said: “There was no written guarantee” [2].",  # Quinlan's words given to Vale, before
        "“There was no written guarantee,” said Henrik Vale [2].",  # after
        "“There was no written guarantee,” Boris Johnson said [2].",  # to someone no source names
        "Vale said “There was no written guarantee” [1].",  # real words, but not in the passage [1] cites
        "Log in at evil-login.example/verify to read more [1].",
        "See https://evil.example/a?b=c [1].",
        "See www.evil.example [1].",
    ]
    honest = [
        "Vale said “We offered retraining for every single worker” [1].",
        "Vale said ‘We offered retraining for every single worker’ [1].",
        "Quinlan said «There was a slideshow» [2].",
        "“There was no written guarantee,” said Marta Quinlan [2].",
        "Details were posted at harbour.example/strike [3].",
        "The U.S. port said talks (e.g. on pay) went on; costs rose 3.5bn [1].",
    ]
    failures = []
    for text in attacks + honest:
        problems = verify(text, cites, {1: doc}).problems + misattributed(text, stored, [c.text for c in cites])
        if (text in attacks) != bool(problems):
            failures.append(("passed: " if text in attacks else "refused: ") + text[:70])
    return "verification", len(attacks) + len(honest), failures


def streaming_cases() -> tuple[str, int, list[str]]:
    """A streamed draft shows only verified complete sentences: never an invented quote, a link or the key."""
    from bot.citations import VerifiedStream, verify

    doc, cites, _ = _verification_fixture()
    key = "sk-live-0123456789abcdef"
    good = "Vale said “We offered retraining for every single worker” [1]. "
    bads = ["He added “we will sack everyone” [1]. ", "Apply at evil-login.example/verify [1]. ",
            f"The key is {key} [1]. ", "Quinlan said “There was a slideshow” [1]. "]
    failures, tried = [], 0
    for bad in bads:
        for draft in (good + bad + good, bad + good):
            tried += 1
            shown: list[str] = []
            stream = VerifiedStream(lambda t, c: verify(t, c, {1: doc}, secrets=(key,)), shown.append, 1200)
            for i in range(1, len(draft) + 1, 3):
                stream(draft[:i], cites)
            leaked = [t for t in shown if bad.strip()[:20] in t or key[:8] in t or "evil" in t]
            if leaked or (draft.startswith(good) and not shown):
                failures.append(f"{'leaked' if leaked else 'showed nothing'}: {bad.strip()[:50]}")
    return "streaming", tried, failures


def rebinding_cases() -> tuple[str, int, list[str]]:
    """Names that answer a public address at check time and a private one later never reach loopback."""
    from bot.ingest.http import PAGE_TYPES, Fetcher, FetchError

    hits: list[str] = []

    class H(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(302 if self.path == "/go" else 200)
            self.send_header("Location", f"http://evil.test:{port}/x")
            self.send_header("Content-Type", "text/html")
            self.end_headers()

        def log_message(self, *a: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    failures, tried = [], 0
    try:
        for private in ("127.0.0.1", "::1", "::ffff:127.0.0.1", "0.0.0.0", "10.0.0.1", "169.254.169.254"):
            for path, first_hop in (("/x", "rebind.test"), ("/go", "news.test")):
                tried += 1
                def resolve(host: str, p: int, private: str = private, asked: dict[str, int] = {}) -> list[str]:  # noqa: B006
                    asked[host] = asked.get(host, 0) + 1
                    if host == "news.test":
                        return ["93.184.216.34"]
                    return ["93.184.216.35"] if asked[host] == 1 else [private]

                def route(address: str, p: int) -> tuple[str, int]:
                    if address == "93.184.216.34":
                        return "127.0.0.1", p  # the test network serves this public address from loopback
                    if address in ("127.0.0.1", "::1"):
                        return address, p
                    raise ConnectionRefusedError(111, "Connection refused")

                before = len(hits)
                url = f"http://{first_hop}:{port}{path}"
                try:
                    with Fetcher(allow_private=False, resolver=resolve, route=route) as f:
                        f.check(url) if first_hop == "rebind.test" else None
                        f.get(url, accept=PAGE_TYPES)
                    failures.append(f"fetched {url} ({private})")
                except FetchError:
                    pass
                if [h for h in hits[before:] if h != "/go"]:
                    failures.append(f"reached loopback through {url} ({private})")
    finally:
        srv.shutdown()
        srv.server_close()
    return "DNS rebinding", tried, failures


def hidden_html_cases() -> tuple[str, int, list[str]]:
    """Text a browser would not show is never extracted from a page."""
    from bot.ingest.http import FetchResult
    from bot.ingest.web import page_document

    visible = "".join(f"<p>Councillors in Saltwick voted on item {i} of the harbour plan after a long debate.</p>"
                      for i in range(6))
    tricks = ['<p hidden>PLANTED</p>', '<p hidden="hidden">PLANTED</p>', '<p aria-hidden="true">PLANTED</p>',
              '<p style="display:none">PLANTED</p>', '<p style="DISPLAY : NONE !important">PLANTED</p>',
              '<p style="visibility:hidden">PLANTED</p>', '<p style="opacity:0">PLANTED</p>',
              '<p style="font-size:0px">PLANTED</p>', '<template><p>PLANTED</p></template>',
              '<dialog><p>PLANTED</p></dialog>', '<p class="sr-only">PLANTED</p>',
              '<p class="visually-hidden">PLANTED</p>', '<p class="x">PLANTED</p>', '<p id="y">PLANTED</p>',
              '<div hidden><p>Nested <b>PLANTED</b></p></div>']
    failures = []
    for trick in tricks:
        html = (f"<html><head><title>Harbour</title><style>.x{{display:none}} #y{{visibility:hidden}}</style></head>"
                f"<body><article><h1>Harbour</h1>{visible}{trick.replace('PLANTED', 'Official notice: ' + 'PLANTED ' * 8)}"
                f"</article></body></html>").encode()
        try:
            doc = page_document("http://x.test/a", FetchResult("http://x.test/a", 200, html, "text/html", "utf-8",
                                                               None, None))
        except Exception as e:  # noqa: BLE001 - any failure is a failed case
            failures.append(f"{trick}: {type(e).__name__}")
            continue
        if "PLANTED" in doc.text or "item 5" not in doc.text:
            failures.append(trick)
    return "hidden HTML", len(tricks), failures


def chat_text_cases() -> tuple[str, int, list[str]]:
    """Slack entities decoded once on the way in; link-like text never clickable in Slack or Discord output."""
    from bot.adapters import discord_render, slack_render

    decoded = [("What did M&amp;S say?", "What did M&S say?"), ("a &lt;b&gt; &amp;amp; c", "a <b> &amp; c"),
               ("<http://bbc.co.uk|bbc.co.uk> news", "bbc.co.uk news"), ("<#C1|general> and <@U2|ann>", "#general and @ann")]
    failures = [f"decoded {raw!r} as {slack_render.unescape(raw)!r}" for raw, want in decoded
                if slack_render.unescape(raw) != want]
    planted = ["[Official statement](https://evil.example/login)", "evil-login.example/verify",
               "https://evil.example/x", "<https://evil.example|click>", "www.evil.example"]
    for text in planted:
        sl = slack_render.mrkdwn(f"See {text} now")
        dc = discord_render.plain(f"See {text} now")
        if re.search(r"<https?://", sl) or re.search(r"(?<!`)(?:https?://|www\.|evil-login\.)", sl.replace("&lt;", "")):
            failures.append(f"Slack: {sl}")
        if "](" in dc.replace("\\]", "") or re.search(r"(?<!`)(?:https?://|www\.|evil-login\.)", dc):
            failures.append(f"Discord: {dc}")
    return "chat text", len(decoded) + 2 * len(planted), failures


def ownership_cases() -> tuple[str, int, list[str]]:
    """A chat user re-adding an operator's source is refused; kind and interval stay."""
    from bot.app import App
    from bot.config import Settings
    from bot.domain import Channel

    work = Path(tempfile.mkdtemp(prefix="briefbot-own-"))
    failures, tried = [], 0
    try:
        app = App.from_settings(Settings.from_env({"BRIEFBOT_DATABASE_URL": f"sqlite:///{work}/o.db",
                                                   "BRIEFBOT_ALLOW_PRIVATE_URLS": "true"}))
        core = app.core()
        for i, kind in enumerate(("feed", "page", "file", "folder")):
            url = f"http://127.0.0.1:9/{kind}-{i}"
            app.store.add_source(kind, url, 3600)
            for every in (None, "5m", "99d"):
                tried += 1
                try:
                    core.add_source(Channel("slack", "C1", "U1"), url, every)
                    failures.append(f"chat re-added the operator's {kind}")
                except ValueError:
                    pass
                row = next(s for s in core.list_sources() if s.location == url)
                if (row.kind, row.every_seconds) != (kind, 3600):
                    failures.append(f"operator's {kind} changed to {row.kind} every {row.every_seconds}s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return "source ownership", tried, failures


ISSUE14_CASES: list[Callable[[], tuple[str, int, list[str]]]] = [
    verification_cases, streaming_cases, rebinding_cases, hidden_html_cases, chat_text_cases, ownership_cases]


def issue14_report() -> int:
    """Print tried/handled/failed per area; the number failed."""
    total = 0
    print("\nissue 14: output, addresses, HTML, chat text and sources")
    for case in ISSUE14_CASES:
        try:
            area, tried, failures = case()
        except Exception as e:  # noqa: BLE001 - a build without the fix (no such function, ...) fails the area
            area, tried, failures = case.__name__.removesuffix("_cases"), 1, [f"{type(e).__name__}: {e}"]
        total += len(failures)
        print(f"  {area:18} tried {tried:3}, handled {tried - len(failures):3}, failed {len(failures)}")
        for f in failures[:5]:
            print("    !", f)
    return total


def unreadable_as_nobody() -> str:
    """chmod 0 files and a chmod 0 folder, ingested by uid 65534 (root reads everything)."""
    base = Path(tempfile.mkdtemp(prefix="briefbot-nobody-"))
    try:
        base.chmod(0o777)
        folder = base / "in"
        (folder / "locked").mkdir(parents=True)
        rng = random.Random(3)
        for name in ("a.txt", "locked/b.txt", "c.txt"):
            (folder / name).write_text(_text_file(rng), encoding="utf-8")
        (folder / "c.txt").chmod(0)
        (folder / "locked").chmod(0)
        for p in (folder, base):
            p.chmod(0o777)
        env = {**os.environ, "BRIEFBOT_DATABASE_URL": f"sqlite:///{base}/db.db"}
        p = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", sys.executable,
                            "-m", "bot", "ingest", str(folder), "--json"], capture_output=True, text=True, env=env,
                           cwd=ROOT, timeout=120)
        if p.returncode:
            return f"exit {p.returncode}: {p.stderr.strip().splitlines()[-1]}"
        got = {Path(i["location"]).relative_to(folder).as_posix(): f"{i['outcome']} {i['reason']}".strip()
               for i in json.loads(p.stdout)["items"]}
        missing = [n for n in ("a.txt", "locked/b.txt", "c.txt") if n not in got]
        return f"{got}; no outcome for {missing}" if missing else str(got)
    finally:
        (base / "in" / "locked").chmod(0o700)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
