"""Embeddings from the configured OpenAI-compatible server's /v1/embeddings, behind bot.embed's Embedder seam.

Imports openai (so the core does not); server trouble comes back as bot.embed.EmbedError.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
import openai

from bot.embed import MAX_CHARS, EmbedError, Vectors, normalise

log = logging.getLogger(__name__)


class OpenAIEmbedder:
    """A server's embedding model; `name` is `openai:<model>`, `dim` is learned from the first reply."""

    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None, timeout: float = 30.0,
                 batch: int = 64, client: Any | None = None) -> None:
        self.model = model
        self.name = f"openai:{model}"
        self.batch = max(1, batch)
        self._dim: int | None = None
        self._lock = threading.Lock()
        self._client = client or openai.OpenAI(api_key=api_key or "not-needed", base_url=base_url, timeout=timeout,
                                               max_retries=1)

    @property
    def dim(self) -> int:
        """The vectors' length (one probe request when no reply has told it yet)."""
        if self._dim is None:
            self.embed(["dimension probe"])
        assert self._dim is not None
        return self._dim

    def embed(self, texts: list[str]) -> Vectors:
        """One normalised row per text, in order; EmbedError naming the server's complaint on any failure."""
        if not texts:
            return np.zeros((0, self._dim or 0), np.float32)
        # servers reject empty input and cap tokens (OpenAI: 8,191): cut as the local model does, a space for ''
        clipped = [(t[:MAX_CHARS] if isinstance(t, str) else "") or " " for t in texts]
        rows: list[list[float]] = []
        for i in range(0, len(clipped), self.batch):
            rows.extend(self._request(clipped[i:i + self.batch]))
        try:
            v = np.asarray(rows, dtype=np.float32)
        except ValueError as e:
            raise EmbedError(f"{self.name}: vectors of different lengths ({e})") from None
        if v.ndim != 2 or v.shape[0] != len(texts) or v.shape[1] == 0:
            raise EmbedError(f"{self.name}: expected {len(texts)} vectors, got an array shaped {v.shape}")
        with self._lock:
            if self._dim is None:
                self._dim = int(v.shape[1])
            elif self._dim != v.shape[1]:
                raise EmbedError(f"{self.name}: vectors of {v.shape[1]} dimensions, earlier ones had {self._dim}")
        if not np.isfinite(v).all():
            raise EmbedError(f"{self.name}: the server sent non-finite numbers")
        return normalise(v)

    def _request(self, texts: list[str]) -> list[list[float]]:
        try:
            resp = self._client.embeddings.create(model=self.model, input=texts, encoding_format="float")
        except openai.APIStatusError as e:
            raise EmbedError(f"{self.name}: HTTP {e.status_code} from the embeddings endpoint: {_message(e)}") from None
        except openai.APITimeoutError:
            raise EmbedError(f"{self.name}: the embeddings endpoint timed out") from None
        except openai.APIConnectionError as e:
            raise EmbedError(f"{self.name}: cannot reach the embeddings endpoint ({e})") from None
        except (openai.OpenAIError, ValueError, TypeError) as e:  # an unparsable body
            raise EmbedError(f"{self.name}: bad reply from the embeddings endpoint ({e})") from None
        data = sorted(getattr(resp, "data", None) or [], key=lambda d: getattr(d, "index", 0))
        if len(data) != len(texts):
            raise EmbedError(f"{self.name}: asked for {len(texts)} vectors, got {len(data)}")
        out = []
        for d in data:
            emb = getattr(d, "embedding", None)
            if not isinstance(emb, list) or not all(isinstance(x, int | float) for x in emb):
                raise EmbedError(f"{self.name}: a reply item has no list of numbers as its embedding")
            out.append([float(x) for x in emb])
        return out


def _message(e: openai.APIStatusError) -> str:
    body = e.body if isinstance(e.body, dict) else {}
    err = body.get("error") if isinstance(body.get("error"), dict) else body
    msg = err.get("message") if isinstance(err, dict) else None
    return str(msg or e.message)[:300]
