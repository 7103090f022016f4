"""Benchmark quote extraction over the BBC corpus and on pathological inputs.

python bench/quotes.py [CORPUS_DIR]    (default: ../shared/corpus/bbc from the repo root)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.quotes import extract_quotes  # noqa: E402


def read(path: Path) -> str:
    """Decode UTF-8, falling back to cp1252 (one BBC file uses it)."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def pathological() -> dict[str, str]:
    """Inputs that would hurt a backtracking or quadratic extractor."""
    return {
        "empty": "",
        "1 MB paragraph, no quotes": "word " * 200_000,
        "1 MB paragraph, occasional quotes": ('Some words and "a quoted bit," said Bob Stone. ' + "filler " * 40)
        * 3_400,
        "10,000 straight quote marks": '"' * 10_000,
        "10,000 curly marks, unbalanced": "“" * 7_000 + "”" * 3_000,
        "mismatched curly/straight": ('“a" ”b“ "c said he ' * 5_000),
        "many tiny paragraphs": '"Yes," he said.\n' * 60_000,
        "tiny paragraphs, a named 'he'": "John Smith arrived. " + '"Yes," he said.\n' * 60_000,
        "titles, initials, asides, sign-offs": ("“No,” Sen. J. R. Lee (D-Ohio) said. “Yes.” ― Ann B. Cole\n" * 20_000),
        "transcript labels": ('"LEE: Yes.\n' * 60_000),
        "one huge unclosed quote": "“" + "he said that " * 80_000,
    }


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "corpus" / "bbc"
    files = sorted(p for p in corpus.rglob("*.txt") if p.name.upper() != "README.TXT")
    texts = [read(p) for p in files]
    t0 = time.perf_counter()
    n_quotes = attributed = 0
    for text in texts:
        qs = extract_quotes(text)
        n_quotes += len(qs)
        attributed += sum(1 for q in qs if q.speaker)
    dt = time.perf_counter() - t0
    print(f"corpus: {corpus}")
    print(f"files: {len(files)}  quotes: {n_quotes}  attributed: {attributed}  seconds: {dt:.2f}  "
          f"quotes/s: {n_quotes / max(dt, 1e-9):.0f}")  # fmt: skip
    worst, worst_name = 0.0, ""
    for name, text in pathological().items():
        t1 = time.perf_counter()
        qs = extract_quotes(text)
        el = time.perf_counter() - t1
        assert all(text[q.start : q.end] == q.text for q in qs)
        print(f"  {name:<38} {len(text):>9,} chars  {len(qs):>6} quotes  {el:.3f}s")
        if el > worst:
            worst, worst_name = el, name
    print(f"worst pathological case: {worst:.3f}s ({worst_name})")


if __name__ == "__main__":
    main()
