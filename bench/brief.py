"""Brief figures: stories over the BBC corpus (all at once, then persisted: the first assignment, a
catch-up with nothing new, ten late articles), the extractive brief of its largest story, the
openai summarizer's prompt tokens for the seeds' brief (counted offline; no server needed), and the
quality report over seeds + BBC: the 20 largest stories and five topics (documents per story, time span,
pronoun-led points, quote speakers that are not names, differences with a sample, brief time).

With --embedded DB (a copy of a database where seeds + BBC were ingested and `briefbot embed` has run; the
file itself is never written), the report is made twice over a copy of it, its stories assigned afresh:
by names, terms and dates only (as `briefbot ingest` assigns them, before embedding), then with what the
embedded leads mean too; and how the two groupings differ.

    python bench/brief.py [BBC_DIR] [SEEDS_DIR] [--embedded DB]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bot.brief import BriefBuilder
from bot.brief_llm import OpenAISummarizer
from bot.brief_rules import (
    leads_with_reference,
    named_speaker,
    outlet_name,
    person_words_from_an_organisation,
    reported,
)
from bot.domain import Brief
from bot.ingest.pipeline import Ingester
from bot.llm.openai_compat import load_prompt
from bot.llm.tokens import count_tokens
from bot.quotes import extract_quotes
from bot.store import open_store
from bot.stories import group, terms
from bot.story_index import StoryIndex

ROOT = Path(__file__).resolve().parent.parent


def main(bbc: Path, seeds: Path) -> None:
    files = sorted(str(p) for p in bbc.rglob("*") if p.is_file())
    texts = Counter(Path(f).read_bytes() for f in files)
    # ten articles that arrive after the rest, spread over the corpus (none a copy of another)
    held = [f for f in files[::50] if texts[Path(f).read_bytes()] == 1 and Path(f).parent != bbc][:10]
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/b.db")
        Ingester(store, extract_quotes=extract_quotes).ingest([f for f in files if f not in held])
        builder = BriefBuilder(store)
        t = time.perf_counter()
        whole = group(list(store.documents_by_id([d.id for d in store.list_documents()]).values()))
        dt = time.perf_counter() - t
        print(f"stories over {store.count_documents():,} BBC documents, all at once (group): {len(whole):,} "
              f"in {dt:.1f} s")
        t = time.perf_counter()
        assigned = builder.catch_up()
        dt = time.perf_counter() - t
        rows = store.stories()
        same = {frozenset(d.id for d in s.documents) for s in whole} == {frozenset(r.doc_ids) for r in rows}
        print(f"first assignment, persisted: {assigned:,} documents into {len(rows):,} stories in {dt:.1f} s "
              f"(target <= 30 s); {'the same' if same else 'NOT the same'} grouping as all at once")
        t = time.perf_counter()
        builder.catch_up()
        print(f"catch-up with nothing new: {(time.perf_counter() - t) * 1000:.1f} ms")
        Ingester(store, extract_quotes=extract_quotes).ingest(held)
        t = time.perf_counter()
        assigned = builder.catch_up()
        dt = time.perf_counter() - t
        before = {i for r in rows for i in r.doc_ids}
        joined = sum(1 for m in store.memberships() if m.doc_id not in before and m.story_id != m.doc_id)
        print(f"catch-up with {assigned} new documents onto {len(rows):,} stories: {dt * 1000:.0f} ms "
              f"({joined} joined a stored story, {assigned - joined} started one); now {len(store.stories()):,} "
              f"stories, all at once over the same {store.count_documents():,}: {len(group(store.list_documents())):,}")
        t = time.perf_counter()
        stories = builder.stories()
        dt = time.perf_counter() - t
        sizes = sorted((len(s.documents) for s in stories), reverse=True)
        print(f"stories read back with documents and vectors: {len(stories):,} in {dt:.1f} s; largest {sizes[:5]}")
        t = time.perf_counter()
        brief = builder()
        print(f"brief of the {len(brief.stories)} largest stories: {time.perf_counter() - t:.1f} s")
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
        listing = "\n".join(f"[{n}] ({outlet_name(d)}) {d.text[a:b]}" for n, (d, a, b) in sents.items())
        user: Any = f"Outlets: ...\n\nSentences:\n{listing}"
        tokens = count_tokens(prompt.text + user, "gpt-4o-mini")
        print(f"openai summarizer prompt for the seeds' brief: {tokens:,} tokens for {len(sents)} sentences "
              f"(target <= 3,000; the five articles are {article_tokens:,} tokens)")


TOPICS = ["football", "oil", "election", "Oscar", "summit"]


def _span(docs: list[Any]) -> str:
    dates = sorted(d.published[:10] for d in docs if d.published)
    if not dates:
        return "undated"
    return dates[0] if dates[0] == dates[-1] else f"{dates[0]}..{dates[-1]}"


def _same_words(a: str, b: str) -> bool:
    wa, wb = set(terms(a)), set(terms(b))
    return len(wa & wb) >= 0.8 * max(1, min(len(wa), len(wb)))


def _report(label: str, brief: Brief, docs_of: dict[int, list[Any]]) -> None:
    points = [k for st in brief.stories for k in st.key_points]
    pronoun = sum(1 for k in points if leads_with_reference(k.citations[0].text))
    unreported = sum(1 for k in points if not all(reported(c.text) for c in k.citations))
    quotes = [q for st in brief.stories for q in st.quotes]
    bad = [q.speaker for q in quotes if not named_speaker(q.speaker)]
    twice = sum(1 for st in brief.stories for i, q in enumerate(st.quotes)
                if any(_same_words(q.text, o.text) for o in st.quotes[:i]))
    odd = sum(1 for q in quotes if person_words_from_an_organisation(q.speaker, q.text)
              or not q.text.lstrip("“\"'‘…. ([")[:1].isupper())
    diffs = [d for st in brief.stories for d in st.differences if d.topic.startswith("The reports")]
    frames = [d for st in brief.stories for d in st.differences if d.topic == "how each outlet leads"]
    print(f"\n{label}: {len(brief.stories)} stories; points leaning on a sentence not shown {pronoun}/{len(points)} "
          f"(target 0); points that report nothing (first person, exclamation, line-up) {unreported}/{len(points)}; "
          f"quote speakers that are not names {len(bad)}/{len(quotes)} (target 0){' ' + str(bad) if bad else ''}; "
          f"quotes shown twice {twice}, fragments or a body's 'I' {odd}; "
          f"figure differences {len(diffs)} ({len(diffs) / max(1, len(brief.stories)):.2f} per story); "
          f"stories showing how each outlet leads {len(frames)}, with {sum(len(d.sides) for d in frames)} leads")
    for st in brief.stories:
        docs = docs_of[st.story_id]
        n_diff = sum(1 for d in st.differences if d.topic.startswith("The reports"))
        n_leads = sum(len(d.sides) for d in st.differences if d.topic == "how each outlet leads")
        print(f"  {len(docs):3d} docs  {_span(docs):22s}  {len(st.key_points)} points  {len(st.quotes)} quotes  "
              f"{n_diff} figure diffs  {n_leads} leads  {st.headline[:60]}")
    for d in diffs[:3]:
        print(f"  sample difference: {d.topic}")
        for side in d.sides:
            print(f"      - {side.text[:160]}")


def quality(seeds: Path, bbc: Path) -> None:
    """The issue's quality report over seeds + BBC, freshly ingested (no vectors)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/q.db")
        Ingester(store, extract_quotes=extract_quotes).ingest([str(seeds), str(bbc)])
        report(store, "")
        store.close()


def quality_embedded(db: Path) -> None:
    """The quality report over a copy of an embedded database, stories assigned without and with meaning."""
    groupings = []
    with tempfile.TemporaryDirectory() as tmp:
        for meaning in (False, True):
            copy = Path(tmp) / f"m{int(meaning)}.db"
            shutil.copy(db, copy)
            with sqlite3.connect(copy) as c:  # the copy's stories only: assigned again below
                c.execute("DELETE FROM story_documents")
                c.execute("DELETE FROM stories")
            store = open_store(f"sqlite:///{copy}")
            t = time.perf_counter()
            StoryIndex(store, meaning=meaning).catch_up()
            dt = time.perf_counter() - t
            rows = store.stories()
            sizes = sorted((len(r.doc_ids) for r in rows), reverse=True)
            label = "with the embedded leads' meaning" if meaning else "by names, terms and dates only"
            print(f"\n== stories {label}: {len(rows):,} over {store.count_documents():,} documents, assigned in "
                  f"{dt:.1f} s; {sum(1 for s in sizes if s > 1)} of more than one document "
                  f"({sum(s for s in sizes if s > 1)} documents); largest {sizes[:10]}")
            groupings.append(({frozenset(r.doc_ids) for r in rows}, {d.id: d.title for d in store.list_documents()}))
            report(store, f" ({label})")
            store.close()
    (before, titles), (after, _) = groupings
    split = sorted((g for g in before - after if len(g) > 1), key=len, reverse=True)
    made = sorted((g for g in after - before if len(g) > 1), key=len, reverse=True)
    print(f"\nmeaning changed {len(split)} stories of more than one document into {len(made)} others; the largest:")
    for label, gs in (("before", split), ("after", made)):
        for g in gs[:6]:
            print(f"  {label} {len(g):2d}: " + " | ".join(titles[i][:36] for i in sorted(g)))


def report(store: Any, label: str) -> None:
    """The 20 largest stories, the 10 largest's brief time, five topics and the seeds' story of a store."""
    builder = BriefBuilder(store, max_stories=20)
    builder.catch_up()
    docs_of = {s.id: s.documents for s in builder.stories()}
    t = time.perf_counter()
    brief = builder()
    print(f"\nquality over seeds + BBC{label} ({store.count_documents():,} documents, {len(docs_of):,} stories)")
    _report(f"the 20 largest stories (brief {time.perf_counter() - t:.2f} s)", brief, docs_of)
    ten = BriefBuilder(store, max_stories=10)
    t = time.perf_counter()
    ten()
    print(f"\nbrief of the 10 largest stories: {time.perf_counter() - t:.2f} s (target <= 1 s)")
    for topic in TOPICS:
        t = time.perf_counter()
        b = builder(topic=topic)
        _report(f"--topic {topic} (brief {time.perf_counter() - t:.2f} s)", b, docs_of)
    seeds_story = [s for s in brief.stories if all("seeds" in x["source"] for x in s.sources)]
    for st in seeds_story:
        quoted = sum(1 for q in st.quotes if q.speaker and q.citation.text in store.document_text(q.citation.doc_id))
        print(f"\nseeds: one story of {len(st.sources)}, {len(st.key_points)} cited points, "
              f"{len(st.quotes)} quotes with speakers ({quoted} verbatim)")
    if not seeds_story:
        print("\nseeds: NOT one story of their own among the 20 largest")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bbc", nargs="?", type=Path, default=ROOT.parent / "shared" / "corpus" / "bbc")
    ap.add_argument("seeds", nargs="?", type=Path, default=ROOT.parent / "shared" / "corpus" / "seeds")
    ap.add_argument("--embedded", type=Path, metavar="DB", help="an embedded database of seeds + BBC (read only)")
    args = ap.parse_args()
    main(args.bbc, args.seeds)
    quality(args.seeds, args.bbc)
    if args.embedded:
        quality_embedded(args.embedded)
