"""Duplicate detection: exact content hashes and near-duplicate sketches (bottom-k of shingle hashes).

Pure functions with stable hashes (CRC32, not Python's salted hash()), so sketches stored by one
run match sketches computed by the next.
"""

from __future__ import annotations

import hashlib
import heapq
import re
import zlib

_WORD = re.compile(r"\w+")
SKETCH_SIZE = 8  # the k smallest shingle hashes of a document
MIN_SHARED = 2  # sketch values two documents must share to be compared in full
NEAR_JACCARD = 0.8  # shingle overlap above which a document is the same story republished


def content_hash(text: str) -> str:
    """SHA-256 of the clean text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def shingles(text: str, k: int = 4) -> set[int]:
    """Stable hashes of the case-folded word 4-grams of a text.

    Words are CRC32-hashed (str hashes are salted per process); tuples of ints hash the same in
    every process, so sketches stored by one run match the next.
    """
    words = _WORD.findall(text.casefold())
    crc = {x: zlib.crc32(x.encode()) for x in set(words)}  # each distinct word hashed once
    w = list(map(crc.__getitem__, words))
    if len(w) < k:
        return {hash(tuple(w))} if w else set()
    return set(map(hash, zip(w, w[1:], w[2:], w[3:], strict=False)))


def sketch(sh: set[int], size: int = SKETCH_SIZE) -> list[int]:
    """The `size` smallest shingle hashes: documents that share most shingles share most of these."""
    return heapq.nsmallest(size, sh)


def jaccard(a: set[int], b: set[int]) -> float:
    """Jaccard similarity of two shingle sets."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)
