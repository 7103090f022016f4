"""Brief figures: stories over the whole BBC corpus, the extractive brief of its largest story, and
the openai summarizer's prompt tokens for the seeds' brief (counted offline; no server needed).

    python bench/brief.py [BBC_DIR] [SEEDS_DIR]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.brief import BriefBuilder
from bot.ingest.pipeline import Ingester
from bot.llm.openai_brief import OpenAISummarizer
from bot.llm.openai_compat import load_prompt
from bot.llm.tokens import count_tokens
from bot.quotes import extract_quotes
from bot.store import open_store

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    bbc = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "corpus" / "bbc"
    seeds = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT.parent / "shared" / "corpus" / "seeds"
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/b.db")
        Ingester(store, extract_quotes=extract_quotes).ingest([str(bbc)])
        builder = BriefBuilder(store)
        t = time.perf_counter()
        stories = builder.stories()
        dt = time.perf_counter() - t
        sizes = sorted((len(s.documents) for s in stories), reverse=True)
        print(f"stories over {store.count_documents():,} BBC documents: {len(stories):,} in {dt:.1f} s "
              f"(target <= 30 s); largest {sizes[:5]}")
        big = max(stories, key=lambda s: len(s.documents))
        rows = store.quotes(doc_ids=[d.id for d in big.documents])
        t = time.perf_counter()
        sb = builder.summarizer.story_brief(big, rows)
        print(f"extractive brief of the largest story ({len(big.documents)} documents): "
              f"{(time.perf_counter() - t) * 1000:.0f} ms (target <= 1 s); {len(sb.key_points)} points, "
              f"{len(sb.quotes)} quotes — {sb.headline!r}")
        store.close()

        store = open_store(f"sqlite:///{tmp}/s.db")
        Ingester(store, extract_quotes=extract_quotes).ingest([str(seeds)])
        prompt = load_prompt("brief")

        class Offline:
            model = "gpt-4o-mini"

        summ = OpenAISummarizer(Offline(), prompt.text)  # type: ignore[arg-type]
        story = BriefBuilder(store).stories()[0]
        sents = summ.numbered(story)
        article_tokens = sum(count_tokens(d.text, "gpt-4o-mini") for d in story.documents)
        listing = "\n".join(f"[{n}] ({d.outlet or Path(d.location).name}) {d.text[a:b]}"
                            for n, (d, a, b) in enumerate(sents, start=1))
        user: Any = f"Outlets: ...\n\nSentences:\n{listing}"
        tokens = count_tokens(prompt.text + user, "gpt-4o-mini")
        print(f"openai summarizer prompt for the seeds' brief: {tokens:,} tokens for {len(sents)} sentences "
              f"(target <= 3,000; the five articles are {article_tokens:,} tokens)")


if __name__ == "__main__":
    main()
