"""Fetching pages and feeds over HTTP against a port-0 loopback server that records every request."""

from __future__ import annotations

import errno
import resource
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from bot.ingest.http import FEED_TYPES, PAGE_TYPES, Fetcher, FetchError
from bot.ingest.web import decode_html, fetch_feed, fetch_page, fetch_url, looks_like_feed

FIXTURES = Path(__file__).parent / "fixtures" / "web"


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # seconds before answering
    drip: float = 0.0  # seconds between 100-byte pieces of the body
    length: bool = True  # send Content-Length (False: body delimited by closing the connection)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class Site:
    """A loopback web server: routes map a path to a Reply or to a function of the request."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply | Callable[[Seen], Reply]] = {}
        self.requests: list[Seen] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()})
                site.requests.append(seen)
                route = site.routes.get(self.path.split("?")[0])
                if route is None:
                    reply = Reply(404, {"Content-Type": "text/html"}, b"<html><body>Not here</body></html>")
                else:
                    reply = route(seen) if callable(route) else route
                time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    if reply.length:
                        self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if reply.drip:
                        for i in range(0, len(reply.body), 100):
                            self.wfile.write(reply.body[i : i + 100])
                            self.wfile.flush()
                            time.sleep(reply.drip)
                    else:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def fixture(self, name: str) -> bytes:
        return (FIXTURES / name).read_bytes().replace(b"{{BASE}}", self.base.encode())

    def serve(self, path: str, name: str, content_type: str, **headers: str) -> None:
        self.routes[path] = Reply(200, {"Content-Type": content_type, **headers}, self.fixture(name))

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site()
    s.thread.start()
    for name in ("article.html", "story-ferries.html", "story-market.html", "story-atom-one.html", "empty.html"):
        s.serve(f"/{name}", name, "text/html; charset=utf-8")
    s.serve("/rss.xml", "rss.xml", "application/rss+xml")
    s.serve("/atom.xml", "atom.xml", "application/atom+xml; charset=utf-8")
    yield s
    s.server.shutdown()
    s.server.server_close()


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(timeout=5.0) as f:
        yield f


def assert_fails(call: Callable[[], object], url: str, *reason: str) -> FetchError:
    with pytest.raises(FetchError) as info:
        call()
    err = info.value
    assert err.url == url
    assert url in str(err)
    for part in reason:
        assert part in err.reason
        assert part in str(err)
    return err


# --- pages ---------------------------------------------------------------------------------


def test_page_text_and_metadata(site: Site, fetcher: Fetcher) -> None:
    url = site.base + "/article.html"
    doc = fetch_page(url, fetcher)
    assert doc.location == url and doc.url == url
    assert doc.title == "Harbour town votes to rebuild its old ferry pier"
    assert doc.author == "Maren Oakfield"
    assert doc.outlet == "The Coastline Courier"
    assert doc.published == "2024-03-14T09:30:00+00:00"
    assert doc.html is False
    paragraphs = doc.text.split("\n")
    assert len(paragraphs) == 5
    assert paragraphs[0].startswith("Councillors in the fictional harbour town of Saltwick")
    assert '"We have waited long enough for a safe way onto the water," said Ilse Brandvik' in doc.text
    assert "Home" not in doc.text and "Copyright" not in doc.text and "Privacy" not in doc.text
    assert site.requests[0].headers["user-agent"].startswith("briefbot/")
    assert "text/html" in site.requests[0].headers["accept"]


def test_page_charset_from_meta(site: Site, fetcher: Fetcher) -> None:
    site.serve("/latin1.html", "latin1.html", "text/html")
    doc = fetch_page(site.base + "/latin1.html", fetcher)
    assert doc.title == "Tromsø choir wins regional prize"
    assert doc.author == "Søren Åkerlund"
    assert "Bjørn Hælstad" in doc.text


def test_decode_html_order() -> None:
    body = "<p>Ærø</p>".encode("cp1252")
    assert decode_html(body, "windows-1252") == "<p>Ærø</p>"
    assert decode_html(b"\xef\xbb\xbf<p>\xc3\x86</p>", "iso-8859-1") == "<p>Æ</p>"  # BOM wins
    assert decode_html("<p>Æ</p>".encode(), None) == "<p>Æ</p>"


def test_page_redirect_followed(site: Site, fetcher: Fetcher) -> None:
    site.routes["/old"] = Reply(301, {"Location": "/mid"})
    site.routes["/mid"] = Reply(302, {"Location": site.base + "/article.html"})
    doc = fetch_page(site.base + "/old", fetcher)
    assert doc.location == site.base + "/old"
    assert doc.url == site.base + "/article.html"
    assert site.paths() == ["/old", "/mid", "/article.html"]


def test_page_without_article(site: Site, fetcher: Fetcher) -> None:
    url = site.base + "/empty.html"
    assert_fails(lambda: fetch_page(url, fetcher), url, "no article text found in the page")


# --- feeds ---------------------------------------------------------------------------------


def test_rss_entries_fetch_their_pages_and_fall_back(site: Site, fetcher: Fetcher) -> None:
    url = site.base + "/rss.xml"
    result = fetch_feed(url, fetcher)
    assert result.title == "The Coastline Courier: Local"
    assert not result.not_modified and result.errors == []
    ferries, market, festival = result.documents
    assert ferries.location == site.base + "/story-ferries.html"
    assert ferries.title == "Island ferry timetable to change in May"
    assert ferries.author == "Petra Lindqvale"
    assert ferries.published == "2024-04-02T07:15:00+00:00"
    assert ferries.outlet == "The Coastline Courier: Local"
    assert ferries.text.startswith("The operator of the fictional Saltwick island ferries")
    assert len(ferries.text.split("\n")) == 3
    assert market.author == "Jonas Kettleby"  # from RSS "email (Name)"
    assert "Greta Saltmarsh" in market.text
    # the festival page 404s: its text comes from the entry's own content:encoded
    assert festival.location == site.base + "/story-gone.html"
    assert festival.text == (
        "The invented Saltwick harbour festival will run from the second to the fourth of August "
        "this year, organisers said on Thursday.\n"
        "Tall ships are expected to moor along the north quay, and the fish market will stay open "
        "late on all three evenings."
    )
    assert festival.author == "Ines Tidewell"
    assert festival.published == "2024-04-04T16:45:00+00:00"
    assert [loc for loc, _ in result.notes] == [festival.location]
    assert "HTTP 404" in result.notes[0][1]
    assert site.paths() == ["/rss.xml", "/story-ferries.html", "/story-market.html", "/story-gone.html"]
    assert "application/rss+xml" in site.requests[0].headers["accept"]


def test_atom_entries(site: Site, fetcher: Fetcher) -> None:
    url = site.base + "/atom.xml"
    result = fetch_feed(url, fetcher)
    assert result.title == "Skerry Point Heritage Trust"
    museum, walks = result.documents
    assert museum.location == site.base + "/story-atom-one.html"
    assert museum.author == "Rosalind Ashgrove"
    assert museum.published == "2024-05-06T07:00:00+00:00"  # 09:00+02:00 in UTC
    assert museum.text.startswith("The cottage where generations of keepers lived")
    # no link: located by feed URL + entry id, text from its own content, no page fetched
    assert walks.location == url + "#urn:example:skerry-trust:walks"
    assert walks.url is None
    assert walks.published == "2024-05-07T08:30:00+00:00"
    assert walks.text == (
        "Guided walks across the sands to the lighthouse return on the first Saturday of June.\n"
        "Walkers should bring boots and check the tide tables."
    )
    assert result.notes == [] and result.errors == []
    assert site.paths() == ["/atom.xml", "/story-atom-one.html"]


def test_entry_with_no_page_and_no_text_is_an_error(site: Site, fetcher: Fetcher) -> None:
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        f"<item><title>Gone</title><link>{site.base}/nothing.html</link></item></channel></rss>"
    )
    site.routes["/thin.xml"] = Reply(200, {"Content-Type": "text/xml"}, feed.encode())
    result = fetch_feed(site.base + "/thin.xml", fetcher)
    assert result.documents == []
    assert result.errors == [(site.base + "/nothing.html", "HTTP 404")]


def test_conditional_get(site: Site, fetcher: Fetcher) -> None:
    body = site.fixture("atom.xml")
    stamp = "Mon, 06 May 2024 10:00:00 GMT"

    def conditional(seen: Seen) -> Reply:
        if seen.headers.get("if-none-match") == '"v1"':
            return Reply(304, {"ETag": '"v1"', "Last-Modified": stamp}, b"", length=False)
        return Reply(200, {"Content-Type": "application/atom+xml", "ETag": '"v1"', "Last-Modified": stamp}, body)

    site.routes["/cond.xml"] = conditional
    url = site.base + "/cond.xml"
    first = fetch_feed(url, fetcher)
    assert first.etag == '"v1"' and first.last_modified == stamp
    assert len(first.documents) == 2 and not first.not_modified
    assert "if-none-match" not in site.requests[0].headers

    site.requests.clear()
    second = fetch_feed(url, fetcher, etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified and second.documents == []
    assert second.etag == '"v1"' and second.last_modified == stamp
    assert site.paths() == ["/cond.xml"]  # no entry pages fetched again
    assert site.requests[0].headers["if-none-match"] == '"v1"'
    assert site.requests[0].headers["if-modified-since"] == stamp

    again = fetch_url(url, fetcher, etag='"v1"')
    assert again.not_modified


def test_feed_served_as_text_plain_is_accepted(site: Site, fetcher: Fetcher) -> None:
    site.serve("/plain-feed", "atom.xml", "text/plain")
    assert len(fetch_feed(site.base + "/plain-feed", fetcher).documents) == 2
    site.routes["/plain-text"] = Reply(200, {"Content-Type": "text/plain"}, b"just some words")
    url = site.base + "/plain-text"
    assert_fails(lambda: fetch_feed(url, fetcher), url, "content type text/plain is not a feed")


def test_feed_url_serving_html_is_refused(site: Site, fetcher: Fetcher) -> None:
    url = site.base + "/article.html"
    assert_fails(lambda: fetch_feed(url, fetcher), url, "content type text/html is not a feed")


def test_malformed_feed(site: Site, fetcher: Fetcher) -> None:
    site.serve("/bad.xml", "malformed.xml", "application/rss+xml")
    url = site.base + "/bad.xml"
    err = assert_fails(lambda: fetch_feed(url, fetcher), url, "not a valid RSS/Atom feed: ")
    assert "line" in err.reason


def _billion_laughs(separator: str) -> str:
    decls = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + ("" if i == 1 else str(i - 1)) + ";") * 10}">' for i in range(1, 10)
    ]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [' + separator + separator.join(decls) + "]>\n"
        '<rss version="2.0"><channel><title>&lol9;</title>'
        "<item><title>&lol9;</title><description>&lol9;</description></item></channel></rss>"
    )


@pytest.mark.parametrize(
    ("separator", "encoding"), [("\n", "utf-8"), ("", "utf-8"), ("", "utf-16")], ids=["lines", "one-line", "utf-16"]
)
def test_entity_bomb_refused_quickly(site: Site, fetcher: Fetcher, separator: str, encoding: str) -> None:
    doc = _billion_laughs(separator)
    if encoding != "utf-8":
        doc = doc.replace('version="1.0"?>', f'version="1.0" encoding="{encoding}"?>')
    site.routes["/bomb.xml"] = Reply(200, {"Content-Type": "application/rss+xml"}, doc.encode(encoding))
    url = site.base + "/bomb.xml"
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    assert_fails(lambda: fetch_url(url, fetcher), url, "<!ENTITY>", "entity-expansion")
    assert time.monotonic() - started < 2.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_kb < 50_000


# --- fetch_url / looks_like_feed -------------------------------------------------------------


def test_fetch_url_dispatches_once(site: Site, fetcher: Fetcher) -> None:
    page = fetch_url(site.base + "/article.html", fetcher)
    assert [d.title for d in page.documents] == ["Harbour town votes to rebuild its old ferry pier"]
    assert page.title == page.documents[0].title
    feed = fetch_url(site.base + "/rss.xml", fetcher)
    assert len(feed.documents) == 3
    assert site.paths().count("/rss.xml") == 1 and site.paths().count("/article.html") == 1


def test_looks_like_feed() -> None:
    assert looks_like_feed("application/atom+xml; charset=utf-8", b"")
    assert looks_like_feed("text/xml", b'<?xml version="1.0"?>\n<!-- hi --><rss version="2.0">')
    assert looks_like_feed("text/html", b"\xef\xbb\xbf<feed xmlns='http://www.w3.org/2005/Atom'>")
    assert looks_like_feed(None, b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="x">')
    assert not looks_like_feed("text/html", b"<!DOCTYPE html><html><head>")
    assert not looks_like_feed("application/xml", b'<?xml version="1.0"?><html xmlns="x">')


# --- the HTTP policy -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 500])
def test_http_errors(site: Site, fetcher: Fetcher, status: int) -> None:
    site.routes["/err"] = Reply(status, {"Content-Type": "text/html"}, b"<html>oops</html>")
    url = site.base + "/err"
    assert_fails(lambda: fetch_page(url, fetcher), url, f"HTTP {status}")


def test_timeout(site: Site) -> None:
    site.routes["/slow"] = Reply(200, {"Content-Type": "text/html"}, b"<html></html>", delay=1.5)
    url = site.base + "/slow"
    started = time.monotonic()
    with Fetcher(timeout=0.3) as f:
        assert_fails(lambda: f.get(url, accept=PAGE_TYPES), url, "timed out after 0.3 s")
    assert time.monotonic() - started < 1.2


def test_slow_drip_body_hits_the_overall_deadline(site: Site) -> None:
    site.routes["/drip"] = Reply(200, {"Content-Type": "text/html"}, b"x" * 3000, drip=0.1)
    url = site.base + "/drip"
    started = time.monotonic()
    with Fetcher(timeout=0.5) as f:
        assert_fails(lambda: f.get(url, accept=PAGE_TYPES), url, "timed out after 0.5 s")
    assert time.monotonic() - started < 1.5


def test_redirect_loop(site: Site, fetcher: Fetcher) -> None:
    site.routes["/a"] = Reply(302, {"Location": "/b"})
    site.routes["/b"] = Reply(302, {"Location": "/a"})
    url = site.base + "/a"
    assert_fails(lambda: fetcher.get(url, accept=PAGE_TYPES), url, "redirect loop")
    assert site.paths() == ["/a", "/b"]


def test_too_many_redirects(site: Site, fetcher: Fetcher) -> None:
    for i in range(1, 8):
        site.routes[f"/hop{i}"] = Reply(302, {"Location": f"/hop{i + 1}"})
    url = site.base + "/hop1"
    assert_fails(lambda: fetcher.get(url, accept=PAGE_TYPES), url, "too many redirects (>5)")
    assert len(site.requests) == 6  # the first request and five redirects followed


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "streamed"])
def test_oversize_body(site: Site, with_length: bool) -> None:
    body = b"<html><body>" + b"<p>word</p>" * 5000 + b"</body></html>"
    site.routes["/big"] = Reply(200, {"Content-Type": "text/html"}, body, length=with_length)
    url = site.base + "/big"
    with Fetcher(max_bytes=10_000) as f:
        assert_fails(lambda: f.get(url, accept=PAGE_TYPES), url, "response larger than 10,000 bytes")


def test_wrong_content_type(site: Site, fetcher: Fetcher) -> None:
    site.routes["/pic.png"] = Reply(200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    url = site.base + "/pic.png"
    assert_fails(lambda: fetch_page(url, fetcher), url, "content type image/png is not a page")
    assert_fails(lambda: fetch_url(url, fetcher), url, "content type image/png is not a page or feed")


def test_connection_refused(fetcher: Fetcher) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    assert_fails(lambda: fetcher.get(url, accept=PAGE_TYPES), url, "connection refused")


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "file:///etc/hostname", "javascript:alert(1)"])
def test_only_http_and_https(fetcher: Fetcher, url: str) -> None:
    assert_fails(lambda: fetcher.get(url, accept=PAGE_TYPES), url, "only http and https")


def test_private_addresses(site: Site) -> None:
    url = site.base + "/article.html"
    with Fetcher(allow_private=False) as strict:
        assert_fails(
            lambda: strict.get(url, accept=PAGE_TYPES),
            url,
            "address 127.0.0.1 is private and private addresses are not allowed",
        )
        by_name = url.replace("127.0.0.1", "localhost")
        assert_fails(lambda: strict.get(by_name, accept=PAGE_TYPES), by_name, "resolves to", "is private")
        v6 = "http://[::ffff:10.0.0.1]/"
        assert_fails(lambda: strict.get(v6, accept=PAGE_TYPES), v6, "is private")
    assert site.requests == []  # refused before connecting
    with Fetcher(allow_private=True) as lenient:
        assert lenient.get(url, accept=PAGE_TYPES).status == 200


def test_private_address_refused_on_a_redirect_hop() -> None:
    # In-process transport: no socket is opened; only the address policy is exercised.
    hits: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hits.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://10.1.2.3/admin"})

    url = "http://93.184.216.34/start"
    with Fetcher(allow_private=False, transport=httpx.MockTransport(handler)) as f:
        assert_fails(lambda: f.get(url, accept=FEED_TYPES), url, "address 10.1.2.3 is private")
    assert hits == [url]


# -- DNS rebinding (issue 14): the address checked is the address connected to --------------------------------

PUBLIC_A, PUBLIC_B = "93.184.216.34", "93.184.216.35"  # globally routable: the policy lets them through


class Rebinding:
    """A resolver that answers `first` for a name the first time and 127.0.0.1 afterwards (a rebinding DNS
    server), and a route standing in for the internet: a public address maps onto a loopback server only if the
    test says so, anything else non-loopback is refused. Nothing here ever contacts a non-loopback address."""

    def __init__(self, first: dict[str, str], served: dict[tuple[str, int], tuple[str, int]]) -> None:
        self.first, self.served = first, served
        self.asked: list[str] = []
        self.dialled: list[tuple[str, int]] = []

    def resolve(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return [self.first[host] if self.asked.count(host) == 1 and host in self.first else "127.0.0.1"]

    def route(self, address: str, port: int) -> tuple[str, int]:
        self.dialled.append((address, port))
        if address == "127.0.0.1":
            return address, port
        if (address, port) in self.served:
            return self.served[(address, port)]
        raise ConnectionRefusedError(errno.ECONNREFUSED, f"Connection refused (test network: {address} not served)")


def test_rebinding_name_never_reaches_loopback(site: Site) -> None:
    port = int(site.base.rsplit(":", 1)[1])
    net = Rebinding({"rebind.test": PUBLIC_A}, served={})
    url = f"http://rebind.test:{port}/article.html"
    with Fetcher(allow_private=False, resolver=net.resolve, route=net.route) as f:
        f.check(url)  # the add-time check sees the public answer, as the attacker intends
        assert_fails(lambda: f.get(url, accept=PAGE_TYPES), url, "is private")  # the name now says 127.0.0.1
    net2 = Rebinding({"rebind.test": PUBLIC_A}, served={})
    with Fetcher(allow_private=False, resolver=net2.resolve, route=net2.route) as f:
        assert_fails(lambda: f.get(url, accept=PAGE_TYPES), url, "connection refused")
    assert net2.asked == ["rebind.test"]  # resolved once for the connection...
    assert net2.dialled == [(PUBLIC_A, port)]  # ...and connected to that checked answer, not a second lookup
    assert site.requests == []  # the loopback server was never reached


def test_pinned_connection_keeps_the_name_in_the_host_header(site: Site) -> None:
    port = int(site.base.rsplit(":", 1)[1])
    net = Rebinding({}, served={})
    with Fetcher(allow_private=True, resolver=net.resolve, route=net.route) as f:
        res = f.get(f"http://news.test:{port}/article.html", accept=PAGE_TYPES)  # no real DNS knows news.test
    assert res.status == 200 and res.url == f"http://news.test:{port}/article.html"
    assert site.requests[0].headers["host"] == f"news.test:{port}"
    assert net.dialled == [("127.0.0.1", port)]


def test_each_redirect_hop_is_resolved_checked_and_pinned(site: Site) -> None:
    port = int(site.base.rsplit(":", 1)[1])
    site.routes["/go"] = Reply(302, {"Location": f"http://evil.test:{port}/article.html"})
    # news.test is a public address that the test network serves from the loopback site; evil.test answers a
    # public address once, then 127.0.0.1
    net = Rebinding({"news.test": PUBLIC_A, "evil.test": PUBLIC_B}, served={(PUBLIC_A, port): ("127.0.0.1", port)})
    url = f"http://news.test:{port}/go"
    with Fetcher(allow_private=False, resolver=net.resolve, route=net.route) as f:
        assert_fails(lambda: f.get(url, accept=PAGE_TYPES), url, "connection refused")
    assert site.paths() == ["/go"]  # the redirect target on loopback was never requested
    assert net.dialled == [(PUBLIC_A, port), (PUBLIC_B, port)]
    assert site.requests[0].headers["host"] == f"news.test:{port}"


# -- hidden HTML (issue 14): what a reader never sees is never stored -------------------------------------------

PLANTED = [
    '<p hidden>“Log in at evil-login.example/verify to keep your pension,” said Ilse Brandvik. HIDDEN-ATTR</p>',
    '<p aria-hidden="true">The council secretly agreed to sell the pier to a casino. HIDDEN-ARIA</p>',
    '<p style="color:red; display: none">The mayor resigned in disgrace on Tuesday morning. HIDDEN-INLINE</p>',
    '<div style="visibility:hidden"><p>Ferry tickets will cost four hundred crowns from May. HIDDEN-VIS</p></div>',
    '<template><p>Councillors voted to flood the fish market next spring. HIDDEN-TEMPLATE</p></template>',
    '<p class="planted">Engineers said the sea wall had already collapsed overnight. HIDDEN-STYLESHEET</p>',
    '<p>The plan passed after a long debate<span class="sr-only"> and a large bribe HIDDEN-SRONLY</span>.</p>',
]


def test_hidden_html_is_dropped_from_pages_and_feeds(site: Site) -> None:
    page = site.fixture("article.html").decode()
    page = page.replace("</head>", "<style>.planted { display:none }</style></head>")
    page = page.replace("<p>Construction is expected", "".join(PLANTED) + "<p>Construction is expected")
    site.routes["/planted.html"] = Reply(200, {"Content-Type": "text/html; charset=utf-8"}, page.encode())
    entry = "<p>Councillors approved the pier plan after a long evening debate in the town hall.</p>" + \
        "".join(p for p in PLANTED if "planted" not in p)  # a feed entry has no stylesheet of its own
    rss = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Courier</title><item><title>Pier</title>'
           f"<guid>pier-1</guid><description><![CDATA[{entry}]]></description></item></channel></rss>")
    site.routes["/planted.xml"] = Reply(200, {"Content-Type": "application/rss+xml"}, rss.encode())
    with Fetcher() as f:
        doc = fetch_page(site.base + "/planted.html", f)
        feed = fetch_feed(site.base + "/planted.xml", f)
    assert "Ilse Brandvik" in doc.text and "Construction is expected" in doc.text  # the visible article stays
    assert "The plan passed after a long debate." in doc.text  # visible text around a hidden span stays
    [entry_doc] = feed.documents
    assert "long evening debate" in entry_doc.text
    for text in (doc.text, entry_doc.text):
        assert "HIDDEN" not in text and "evil-login" not in text, text
