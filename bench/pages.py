"""Page render time at BBC size: citation pages (the article, the span marked, the speaker) and brief pages,
rendered in process and fetched over loopback HTTP from the bot's own server. Target: p95 ≤ 50 ms.

    PYTHONPATH=. .venv/bin/python bench/pages.py [--db PATH] [--n 300] [--seed 18]

--db PATH  a database already holding ../shared/corpus/bbc (copied to a temporary file first, never written);
           without it the BBC corpus is ingested into a temporary database (a minute or two)
Corpus: ../shared/corpus/bbc, never copied into the repository.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.brief import BriefBuilder  # noqa: E402
from bot.digest import keep_brief  # noqa: E402
from bot.domain import Channel, Citation  # noqa: E402
from bot.http_server import BotHTTPServer  # noqa: E402
from bot.ingest.pipeline import Ingester  # noqa: E402
from bot.quotes import extract_quotes  # noqa: E402
from bot.store.sqlite import SQLiteStore  # noqa: E402
from bot.web.links import Linker, derive_key  # noqa: E402
from bot.web.pages import Pages  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BBC = ROOT.parent / "shared" / "corpus" / "bbc"
TARGET_MS = 50.0


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def line(name: str, ms: list[float]) -> str:
    return (f"{name:<28} n={len(ms):<4} p50 {statistics.median(ms):6.2f} ms  p95 {pct(ms, 95):6.2f} ms  "
            f"max {max(ms):6.2f} ms")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=18)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="briefbot-pages-"))
    try:
        path = tmp / "bbc.db"
        if args.db:
            shutil.copy(args.db, path)
            store = SQLiteStore(str(path))
        else:
            store = SQLiteStore(str(path))
            began = time.perf_counter()
            Ingester(store, extract_quotes=extract_quotes).ingest([str(BBC)])
            print(f"ingested BBC in {time.perf_counter() - began:.0f} s")
        store.migrate()
        docs = store.list_documents()
        quotes = [r for r in store.quotes() if r.quote.speaker]
        print(f"{len(docs):,} documents, {store.count_passages():,} passages, {len(quotes):,} attributed quotes")
        rng = random.Random(args.seed)
        cites = [Citation(n=1, source=r.location, text=r.quote.text, doc_id=r.doc_id, start=r.quote.start,
                          end=r.quote.end) for r in rng.sample(quotes, min(args.n, len(quotes)))]
        channel = Channel("slack", "CBENCH")
        linker = Linker(derive_key("bench"), "http://127.0.0.1:0")
        pages = Pages(store, linker)

        brief = BriefBuilder(store)(None, None, None)
        keep_brief(store, brief, channel, "digest", None)
        stories = len(brief.stories)

        def render(url: str) -> tuple[float, int]:
            path = url.split("://", 1)[1].split("/", 1)[1].split("#", 1)[0]
            t = time.perf_counter()
            res = pages("/" + path)
            took = (time.perf_counter() - t) * 1000
            assert res.status == 200, res.status
            return took, len(res.body)

        for c in cites[:20]:  # warm the caches a running bot would have warm
            render(linker.citation_url(c, channel))
        cite_ms, sizes = zip(*(render(linker.citation_url(c, channel)) for c in cites), strict=True)
        brief_ms = [render(linker.brief_url(brief.id, channel))[0] for _ in range(30)]
        archive_ms = [render(linker.archive_url(channel))[0] for _ in range(30)]

        server = BotHTTPServer(store, 0, host="127.0.0.1", pages=pages).start()
        linker.base_url = f"http://127.0.0.1:{server.port}"
        http_ms = []
        try:
            for c in cites:
                t = time.perf_counter()
                with urllib.request.urlopen(linker.citation_url(c, channel), timeout=10) as r:
                    assert r.status == 200
                    r.read()
                http_ms.append((time.perf_counter() - t) * 1000)
        finally:
            server.stop()

        print(line("citation page (render)", list(cite_ms)))
        print(line("citation page (HTTP)", http_ms))
        print(line(f"brief page ({stories} stories)", brief_ms))
        print(line("archive page", archive_ms))
        print(f"citation page size: p50 {statistics.median(sizes) / 1024:.1f} kB, max {max(sizes) / 1024:.1f} kB")
        worst = max(pct(list(cite_ms), 95), pct(http_ms, 95), pct(brief_ms, 95))
        print(f"target p95 ≤ {TARGET_MS:.0f} ms: {'met' if worst <= TARGET_MS else 'NOT met'} (worst p95 {worst:.2f} ms)")
        store.close()
        return 0 if worst <= TARGET_MS else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
