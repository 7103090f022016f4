"""Signed, expiring links to the bot's pages: what a link points at, the channel whose scope it carries, and
an HMAC-SHA256 over both. Owns token format and verification; imports only the domain and the stdlib.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.domain import Channel, Citation

DEFAULT_TTL = 30 * 86400  # seconds a link stays valid
_VERSION = 1


class LinkError(ValueError):
    """A link that is malformed, tampered with or expired (the reason is for logs, never for the page)."""


@dataclass(frozen=True)
class Target:
    """What a verified link names: a kind ('c' citation, 'b' brief, 'a' archive), the channel whose scope
    applies, and the kind's own arguments."""

    kind: str
    platform: str
    channel: str
    args: tuple[str | int, ...]
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def derive_key(secret: str) -> bytes:
    """The signing key for links from a secret the bot holds (its own purpose, so the secret itself is never
    what signs a public URL)."""
    return hmac.new(secret.encode(), b"briefbot page links v1", hashlib.sha256).digest()


class Linker:
    """Makes and checks page URLs under `base_url` (BRIEFBOT_PUBLIC_URL)."""

    def __init__(self, key: bytes, base_url: str, ttl: int = DEFAULT_TTL,
                 clock: Callable[[], float] = time.time) -> None:
        if not key:
            raise ValueError("a link key must not be empty")
        self._key = key
        self.base_url = base_url.rstrip("/")
        self.ttl = ttl
        self.clock = clock

    # ---- making ------------------------------------------------------------------------------------------

    def token(self, kind: str, channel: Channel, *args: str | int) -> str:
        """A signed token for `kind` with `args`, valid for `ttl` seconds, scoped to `channel`."""
        expires = int(self.clock()) + self.ttl
        payload = json.dumps([_VERSION, kind, channel.platform, channel.channel, expires, *args],
                             separators=(",", ":")).encode()
        return _b64(payload) + "." + _b64(self._sign(payload))

    def citation_url(self, c: Citation, channel: Channel) -> str:
        """The page of a cited passage; the fragment scrolls to it."""
        return f"{self.base_url}/c/{self.token('c', channel, c.doc_id, c.start, c.end)}#q"

    def brief_url(self, brief_id: str, channel: Channel) -> str:
        """The page of a stored brief or digest."""
        return f"{self.base_url}/b/{self.token('b', channel, brief_id)}"

    def archive_url(self, channel: Channel) -> str:
        """The page listing a channel's past digests."""
        return f"{self.base_url}/a/{self.token('a', channel)}"

    # ---- checking ----------------------------------------------------------------------------------------

    def verify(self, token: str, kind: str) -> Target:
        """The target of a token of `kind`; LinkError when it is malformed, not ours, or expired."""
        try:
            body, sig = token.split(".", 1)
            payload, mac = _unb64(body), _unb64(sig)
        except (ValueError, TypeError) as e:
            raise LinkError("malformed link") from e
        if not hmac.compare_digest(mac, self._sign(payload)):
            raise LinkError("bad signature")
        try:
            version, got, platform, channel, expires, *args = json.loads(payload)
        except (ValueError, TypeError) as e:
            raise LinkError("malformed payload") from e
        if version != _VERSION or got != kind:
            raise LinkError(f"a {got!r} link used as {kind!r}")
        if not isinstance(expires, int) or expires < self.clock():
            raise LinkError("expired")
        return Target(kind, str(platform), str(channel), tuple(args), expires)

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()
