"""The one HTTP client policy for ingestion: size, time, redirect, content-type and address limits.

Every network read in `bot.ingest` goes through `Fetcher.get`; every failure surfaces as `FetchError`.
Each connection resolves its host once, checks every address, and connects to a checked one (the URL's host
still goes in the Host header and TLS SNI): a name that answers differently later (DNS rebinding) never
reaches an address the policy refuses, on the first request or on any redirect hop.
"""

from __future__ import annotations

import errno
import ipaddress
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Self

import httpcore
import httpx

PAGE_TYPES: tuple[str, ...] = ("text/html", "application/xhtml+xml")
FEED_TYPES: tuple[str, ...] = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
    "application/x-rss+xml",
    "application/x-atom+xml",
)
# Types some servers wrongly send for feeds; accepted for feeds only when the body looks like one.
_LENIENT_FEED_TYPES = frozenset({"text/plain", "application/octet-stream", "binary/octet-stream", ""})
_SNIFF_BYTES = 1024
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})

_FEED_ROOT = re.compile(rb"<(?:rss|feed|(?:[A-Za-z_][\w.-]*:)?RDF)[\s>/]")
_PROLOG_JUNK = re.compile(
    rb"\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\]\s*)?>",
    re.DOTALL | re.IGNORECASE,
)
_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)


IP = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses a name resolves to (the system resolver unless a test injects one)
Resolver = Callable[[str, int], list[str]]
# address, port -> where to open the TCP connection for it: the same in production; tests map public addresses
# onto loopback servers and refuse the rest, so no test ever contacts a non-loopback address
Route = Callable[[str, int], tuple[str, int]]


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses getaddrinfo gives for a host, in its order."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def direct(address: str, port: int) -> tuple[str, int]:
    """Connect to the address itself (the production route)."""
    return address, port


class _Refused(Exception):
    """Raised inside a connection attempt; Fetcher.get turns it into FetchError with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FetchError(Exception):
    """A URL could not be fetched or used; `reason` is a short human explanation."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"could not fetch {url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass
class FetchResult:
    """One successful (or not-modified) GET, after redirects."""

    url: str  # final URL after redirects
    status: int
    content: bytes
    content_type: str | None  # media type, lower case, without parameters
    encoding: str | None  # charset from the Content-Type header or a BOM, if any
    etag: str | None
    last_modified: str | None
    not_modified: bool = False


def media_type(content_type: str | None) -> str:
    """Return the lower-case media type of a Content-Type value, without parameters."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def header_charset(content_type: str | None) -> str | None:
    """Return the charset parameter of a Content-Type value, if any."""
    if not content_type:
        return None
    m = _CHARSET.search(content_type)
    return m.group(1).lower() if m else None


def bom_encoding(body: bytes) -> str | None:
    """Return the encoding a byte-order mark at the start of `body` declares, if any."""
    if body.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return None


def sniff_feed(body_prefix: bytes) -> bool:
    """True when the bytes begin (after prolog, comments, DOCTYPE) with an RSS, Atom or RDF root."""
    data = body_prefix.lstrip(b"\xef\xbb\xbf")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            data = data.decode("utf-16", "ignore").encode("utf-8")
        except UnicodeError:
            return False
    pos = 0
    while True:
        m = _PROLOG_JUNK.match(data, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    return _FEED_ROOT.match(data, pos) is not None


def _sniff_html(body_prefix: bytes) -> bool:
    head = body_prefix[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def _kind(accept: tuple[str, ...]) -> str:
    page = any(t in PAGE_TYPES for t in accept)
    feed = any(t in FEED_TYPES for t in accept)
    if page and feed:
        return "a page or feed"
    if page:
        return "a page"
    if feed:
        return "a feed"
    return "one of " + ", ".join(accept)


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return _is_public(embedded)
        if ip.is_site_local:
            return False
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified
    )


class Fetcher:
    """Fetches http(s) URLs with one policy: limits on time, size and redirects, and address checks."""

    def __init__(
        self,
        timeout: float = 15.0,
        max_bytes: int = 5_000_000,
        max_redirects: int = 5,
        user_agent: str = "briefbot/0.1 (+https://github.com/briefbot)",
        allow_private: bool = True,
        transport: httpx.BaseTransport | None = None,
        resolver: Resolver = system_resolver,
        route: Route = direct,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        self.allow_private = allow_private
        self.resolver = resolver
        # an injected transport is the network itself (in-process tests): URLs are checked before it is called
        self._check_before = transport is not None
        if transport is None:
            transport = _PinnedTransport(_PinnedBackend(self._checked_addresses, route))
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            transport=transport,
            trust_env=False,  # no proxies or .netrc credentials sent to arbitrary hosts
            headers={"User-Agent": user_agent},
        )

    def close(self) -> None:
        """Close the underlying connection pool."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        accept: tuple[str, ...],
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """GET `url` under the policy; raise FetchError on any failure, return not_modified on 304."""
        headers = {"Accept": ", ".join(accept) + ", */*;q=0.1"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = time.monotonic() + self.timeout
        seen: list[str] = []
        current = url
        while True:
            target = self._check_url(url, current, resolve=self._check_before)
            if current in seen:
                raise FetchError(url, f"redirect loop ({seen[-1]} redirects back to {current})")
            seen.append(current)
            try:
                with self._client.stream("GET", target, headers=headers) as resp:
                    if resp.status_code in _REDIRECT_CODES and "location" in resp.headers:
                        if len(seen) > self.max_redirects:
                            raise FetchError(url, f"too many redirects (>{self.max_redirects})")
                        current = str(resp.url.join(resp.headers["location"]))
                        continue
                    return self._finish(url, resp, accept, deadline)
            except _Refused as exc:
                raise FetchError(url, exc.reason) from None
            except httpx.TimeoutException:
                raise FetchError(url, f"timed out after {_seconds(self.timeout)}") from None
            except httpx.ConnectError as exc:
                raise FetchError(url, _connect_reason(exc)) from None
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                raise FetchError(url, f"invalid URL ({exc})") from None
            except httpx.DecodingError:
                raise FetchError(url, "could not decode the compressed response") from None
            except httpx.HTTPError as exc:
                raise FetchError(url, f"network error: {exc or type(exc).__name__}") from None

    def _finish(self, url: str, resp: httpx.Response, accept: tuple[str, ...], deadline: float) -> FetchResult:
        etag = resp.headers.get("etag")
        last_modified = resp.headers.get("last-modified")
        raw_type = resp.headers.get("content-type")
        ctype = media_type(raw_type)
        if resp.status_code == 304:
            return FetchResult(str(resp.url), 304, b"", ctype or None, None, etag, last_modified, True)
        if not 200 <= resp.status_code < 300:
            raise FetchError(url, f"HTTP {resp.status_code}")
        length = resp.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            raise FetchError(url, f"response larger than {self.max_bytes:,} bytes")
        typed_ok = ctype in accept
        if not typed_ok and not self._may_sniff(ctype, accept):
            raise FetchError(url, f"content type {ctype or '(none)'} is not {_kind(accept)}")
        body = bytearray()
        for chunk in resp.iter_bytes():
            body += chunk
            if len(body) > self.max_bytes:
                raise FetchError(url, f"response larger than {self.max_bytes:,} bytes")
            if time.monotonic() > deadline:
                raise FetchError(url, f"timed out after {_seconds(self.timeout)}")
        content = bytes(body)
        if not typed_ok and not self._sniff_ok(content, accept):
            raise FetchError(url, f"content type {ctype or '(none)'} is not {_kind(accept)}")
        return FetchResult(
            url=str(resp.url),
            status=resp.status_code,
            content=content,
            content_type=ctype or None,
            encoding=header_charset(raw_type) or bom_encoding(content),
            etag=etag,
            last_modified=last_modified,
        )

    @staticmethod
    def _may_sniff(ctype: str, accept: tuple[str, ...]) -> bool:
        wants_feed = any(t in FEED_TYPES for t in accept)
        wants_page = any(t in PAGE_TYPES for t in accept)
        return (wants_feed and ctype in _LENIENT_FEED_TYPES) or (wants_page and ctype == "")

    @staticmethod
    def _sniff_ok(content: bytes, accept: tuple[str, ...]) -> bool:
        prefix = content[:_SNIFF_BYTES]
        if any(t in FEED_TYPES for t in accept) and sniff_feed(prefix):
            return True
        return any(t in PAGE_TYPES for t in accept) and _sniff_html(prefix)

    def check(self, url: str) -> None:
        """Refuse (FetchError) a URL this policy would not fetch: scheme, host, private addresses."""
        self._check_url(url, url)

    def _check_url(self, original: str, current: str, resolve: bool = True) -> httpx.URL:
        try:
            parsed = httpx.URL(current)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise FetchError(original, f"invalid URL ({exc})") from None
        if parsed.scheme not in ("http", "https"):
            what = f"scheme {parsed.scheme}:" if parsed.scheme else "no scheme"
            raise FetchError(original, f"unsupported URL ({what}; only http and https are fetched)")
        if not parsed.host:
            raise FetchError(original, "invalid URL (no host)")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        literal = _literal(parsed.host)
        if literal is not None or resolve:
            try:
                self._checked_addresses(parsed.host, port)
            except _Refused as exc:
                raise FetchError(original, exc.reason) from None
        return parsed

    def _checked_addresses(self, host: str, port: int) -> list[IP]:
        """The addresses to connect to for a host: resolved once, every one checked against the policy."""
        literal = _literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                answers = self.resolver(host, port)
            except (OSError, UnicodeError):
                raise _Refused(f"could not resolve host {host}") from None
            addresses = [ip for a in answers if (ip := _literal(a)) is not None]
            if not addresses:
                raise _Refused(f"could not resolve host {host}")
        if not self.allow_private:
            for ip in addresses:
                if not _is_public(ip):
                    raise _Refused(_private_reason(ip, host))
        return addresses


def _literal(host: str) -> IP | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


class _PinnedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting to an address the policy checked rather than to the name: the
    name is resolved once per connection, here, and never again by anything else."""

    def __init__(self, addresses: Callable[[str, int], list[IP]], route: Route) -> None:
        self._addresses, self._route = addresses, route

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None) -> httpcore.NetworkStream:
        last: Exception | None = None
        for ip in self._addresses(host, port):
            try:
                where, at = self._route(str(ip), port)
            except OSError as exc:
                last = httpcore.ConnectError(str(exc))
                continue
            try:
                return super().connect_tcp(where, at, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:  # another address of the same name may answer
                last = exc
        raise last or httpcore.ConnectError(f"no address to connect to for {host}")


class _PinnedTransport(httpx.HTTPTransport):
    """httpx's own transport over the pinned backend. httpx has no public way to pass a network backend, so the
    connection pool is rebuilt here with the settings httpx gives it by default."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        super().__init__()
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(), max_connections=100,
                                             max_keepalive_connections=20, keepalive_expiry=5.0,
                                             network_backend=backend)


def _private_reason(ip: IP, host: str) -> str:
    where = f"address {ip}" if str(ip) == host.strip("[]") else f"host {host} resolves to {ip}, which"
    return f"{where} is private and private addresses are not allowed"


def _connect_reason(exc: httpx.ConnectError) -> str:
    text = str(exc)
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "could not resolve host"
        cause = cause.__cause__ or cause.__context__
    low = text.lower()
    if "refused" in low:
        return "connection refused"
    if "name or service not known" in low or "nodename nor servname" in low or "getaddrinfo" in low:
        return "could not resolve host"
    if "ssl" in low or "certificate" in low:
        return f"TLS error: {text}"
    return f"connection failed: {text or type(exc).__name__}"
