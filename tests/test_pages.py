"""The citation, brief and archive pages over real HTTP on loopback, and in a real headless Chromium.

The bot's own HTTP server serves them; links are made by the same Linker the chat adapters use. Chromium
(Debian's package, driven by Playwright) loads each page and records every request it makes.
"""

from __future__ import annotations

import hashlib
import html
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import html5lib
import pytest

from bot.answer import Answerer
from bot.brief import BriefBuilder
from bot.core import Core
from bot.domain import Channel, Citation
from bot.http_server import BotHTTPServer
from bot.ingest.passages import split_passages
from bot.ingest.pipeline import Ingester
from bot.quotes import extract_quotes
from bot.store import open_store
from bot.store.base import NewDocument, Store
from bot.web.links import Linker, derive_key

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "bot" / "samples"
ARTIFACTS = Path(os.environ.get("BRIEFBOT_ARTIFACTS", ROOT / ".artifacts")) / "pages"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

OPEN = Channel("slack", "C_OPEN")
TRAMS_ONLY = Channel("slack", "C_TRAMS")  # scoped to the riverside-tram article

HOSTILE = ("Officials issued a statement on the harbour.\n\n"
           "<script>document.title='owned'</script><img src=\"http://198.51.100.7/pixel.png\"> "
           "Click [Official statement](https://evil.example/login) or visit evil-login.example/verify now.\n\n"
           "\"We will not accept any <b>bold</b> plan,\" said Mara Olsen, the union's negotiator.\n\n"
           "The talks resume on Friday.")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path}/pages.db")
    Ingester(s, extract_quotes=extract_quotes).ingest([str(SAMPLES)])
    passages = split_passages(HOSTILE)
    s.put_document(NewDocument(
        location="https://news.example/harbour-statement", title="Harbour <statement> & \"reply\"", text=HOSTILE,
        content_hash=hashlib.sha256(HOSTILE.encode()).hexdigest(), passages=passages,
        quotes=extract_quotes(HOSTILE, [(p.start, p.end) for p in passages]),
        url="https://news.example/harbour-statement", outlet="The Example", published="2026-11-20T09:00:00Z"))
    s.set_channel_sources("slack", TRAMS_ONLY.channel, ["riverside-tram"])
    yield s
    s.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def linker(clock: Clock) -> Linker:
    return Linker(derive_key("test-link-secret"), "http://127.0.0.1:0", ttl=3600, clock=clock)


@pytest.fixture
def server(store: Store, linker: Linker) -> Iterator[BotHTTPServer]:
    from bot.web.pages import Pages

    srv = BotHTTPServer(store, 0, host="127.0.0.1", pages=Pages(store, linker)).start()
    linker.base_url = f"http://127.0.0.1:{srv.port}"
    yield srv
    srv.stop()


def get(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def valid_html(body: str) -> None:
    parser = html5lib.HTMLParser(strict=True)
    parser.parse(body)
    assert not parser.errors


def quote_citation(store: Store, location_part: str, n: int = 1) -> tuple[Citation, Any]:
    """A citation of the last attributed quote of a stored document (far down the article)."""
    doc = next(d for d in store.list_documents() if location_part in d.location)
    row = [r for r in store.quotes(doc_ids=[doc.id]) if r.quote.speaker][-1]
    q = row.quote
    return Citation(n=n, source=doc.location, text=q.text, doc_id=doc.id, start=q.start, end=q.end,
                    title=doc.title, url=doc.url, outlet=doc.outlet), q


# ---- over HTTP -------------------------------------------------------------------------------------------

def test_citation_page_marks_the_passage_names_the_speaker_and_is_valid_html(
        server: BotHTTPServer, store: Store, linker: Linker) -> None:
    cite, quote = quote_citation(store, "harbour-strike-gazette")
    url = linker.citation_url(cite, OPEN)
    assert url.endswith("#q")
    status, headers, body = get(url)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in headers["Content-Security-Policy"] and "script-src" not in headers[
        "Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"
    valid_html(body)
    assert '<mark id="q" class="first">' in body
    marked = body.split('<mark id="q" class="first">', 1)[1].split("</mark>", 1)[0]
    assert quote.text.split()[0] in marked and quote.text.split()[-1].strip(".,") in marked
    assert f"<strong>{quote.speaker}</strong>" in body
    assert "Dockworkers in Port Aldmere walk out" in body  # the article's title
    assert "<script" not in body.lower()


def test_hostile_article_text_is_escaped_and_only_the_original_link_is_a_link(
        server: BotHTTPServer, store: Store, linker: Linker) -> None:
    cite, quote = quote_citation(store, "harbour-statement")
    status, _, body = get(linker.citation_url(cite, OPEN))
    assert status == 200
    valid_html(body)
    assert "&lt;script&gt;" in body and "<script" not in body
    assert "<img" not in body and "&lt;img" in body
    assert "Harbour &lt;statement&gt; &amp; &quot;reply&quot;" in body
    hrefs = [part.split('"', 1)[0] for part in body.split('href="')[1:]]
    assert sorted(hrefs) == ["#q", "https://news.example/harbour-statement"]  # no link the article carries
    assert 'rel="noopener noreferrer nofollow"' in body
    assert "The Example" in body and "2026-11-20" in body
    assert "Mara Olsen" in body


def test_tampered_expired_and_wrong_kind_links_get_403(server: BotHTTPServer, store: Store, linker: Linker,
                                                       clock: Clock) -> None:
    cite, _ = quote_citation(store, "harbour-strike-gazette")
    url = linker.citation_url(cite, OPEN).removesuffix("#q")
    assert get(url)[0] == 200
    body, sig = url.rsplit("/", 1)[1].split(".")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    assert get(url.replace(sig, flipped))[0] == 403
    other = linker.citation_url(Citation(n=1, source="x", text="", doc_id=cite.doc_id + 1, start=0, end=5), OPEN)
    other_body = other.rsplit("/", 1)[1].split(".")[0]
    status, headers, page = get(url.replace(body, other_body))  # another document's payload, this signature
    assert status == 403 and "expired or was altered" in page
    assert "Content-Security-Policy" in headers
    assert get(url.replace("/c/", "/b/"))[0] == 403  # a citation link is not a brief link
    assert get(f"http://127.0.0.1:{server.port}/c/garbage")[0] == 403
    assert get(f"http://127.0.0.1:{server.port}/c/")[0] == 403
    forged = Linker(derive_key("another-secret"), linker.base_url, clock=clock).citation_url(cite, OPEN)
    assert get(forged)[0] == 403
    clock.now += 3601
    assert get(url)[0] == 403


def test_out_of_scope_document_is_refused(server: BotHTTPServer, store: Store, linker: Linker) -> None:
    strike, _ = quote_citation(store, "harbour-strike-gazette")
    status, _, body = get(linker.citation_url(strike, TRAMS_ONLY))
    assert status == 403 and "do not include the source" in body
    assert "Dockworkers" not in body
    tram_doc = next(d for d in store.list_documents() if "riverside-tram" in d.location)
    tram = Citation(n=1, source=tram_doc.location, text="", doc_id=tram_doc.id, start=0, end=20)
    assert get(linker.citation_url(tram, TRAMS_ONLY))[0] == 200


def test_brief_page_links_every_point_to_its_passage_and_the_archive_lists_it(
        server: BotHTTPServer, store: Store, linker: Linker) -> None:
    core = Core(store, Answerer(store), BriefBuilder(store))
    brief = core.brief(None, OPEN)
    assert brief.id and brief.stories
    status, _, body = get(linker.brief_url(brief.id, OPEN))
    assert status == 200
    valid_html(body)
    for story in brief.stories:
        assert html.escape(story.headline) in body
    cite_links = [p.split('"', 1)[0].replace("&amp;", "&") for p in body.split('class="n" href="')[1:]]
    assert cite_links
    for link in cite_links[:5]:
        status, _, page = get(link)
        assert status == 200 and '<mark id="q"' in page
    # the same brief through a link of another channel is refused
    assert get(linker.brief_url(brief.id, TRAMS_ONLY))[0] == 403
    status, _, archive = get(linker.archive_url(OPEN))
    valid_html(archive)
    assert status == 200 and archive.count("<li>") == 1 and "brief" in archive
    assert "Nothing has been posted" in get(linker.archive_url(TRAMS_ONLY))[2]


def test_a_link_to_a_pruned_brief_says_it_expired_and_points_to_the_archive(server: BotHTTPServer, store: Store,
                                                                          linker: Linker) -> None:
    core = Core(store, Answerer(store), BriefBuilder(store))
    brief = core.brief(None, OPEN)
    assert brief.id and store.prune_briefs("9999-01-01T00:00:00+00:00") == 1
    status, _, body = get(linker.brief_url(brief.id, OPEN))
    valid_html(body)
    assert status == 404 and "<title>Brief expired</title>" in body and "This brief has expired" in body
    archive = body.split('<a href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    status, _, page = get(archive)
    assert status == 200 and "Nothing has been posted" in page


def test_brief_page_shows_only_what_the_channel_scope_allows(server: BotHTTPServer, store: Store,
                                                             linker: Linker) -> None:
    core = Core(store, Answerer(store), BriefBuilder(store))
    brief = core.brief(None, OPEN)
    store.set_channel_sources("slack", OPEN.channel, ["riverside-tram"])  # narrowed after the brief was posted
    status, _, body = get(linker.brief_url(brief.id, OPEN))
    assert status == 200
    assert "Dockworkers" not in body and "harbour" not in body.lower()


def test_head_and_post(server: BotHTTPServer, store: Store, linker: Linker) -> None:
    cite, _ = quote_citation(store, "harbour-strike-gazette")
    url = linker.citation_url(cite, OPEN).removesuffix("#q")
    req = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200 and r.read() == b"" and int(r.headers["Content-Length"]) > 1000
    req = urllib.request.Request(url, data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 404


# ---- in a real browser --------------------------------------------------------------------------------------

@pytest.fixture
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        if os.environ.get("BRIEFBOT_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


def _open(browser: Any, url: str, width: int, height: int) -> tuple[Any, list[str], Any]:
    page = browser.new_page(viewport={"width": width, "height": height})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    response = page.goto(url, wait_until="load")
    return page, requests, response


def test_browser_scrolls_to_the_highlighted_passage_and_loads_nothing_else(
        server: BotHTTPServer, store: Store, linker: Linker, browser: Any) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    cite, quote = quote_citation(store, "harbour-strike-gazette")
    url = linker.citation_url(cite, OPEN)
    for name, (w, h) in {"desktop": (1280, 600), "phone": (390, 700)}.items():
        page, requests, response = _open(browser, url, w, h)
        assert response.status == 200
        state = page.evaluate("""() => {
            const m = document.getElementById('q'); const r = m.getBoundingClientRect();
            return {top: r.top, bottom: r.bottom, scrollY: window.scrollY, inner: window.innerHeight,
                    text: m.textContent, bg: getComputedStyle(m).backgroundColor,
                    overflow: document.documentElement.scrollWidth - window.innerWidth,
                    scripts: document.scripts.length, title: document.title}
        }""")
        assert state["scrollY"] > 0, name  # the passage is far down: the fragment scrolled to it
        assert 0 <= state["top"] < state["inner"] and state["bottom"] > 0, name  # and it is in view
        assert quote.text.split()[0] in state["text"]
        assert state["bg"] == "rgb(255, 224, 102)", name  # highlighted
        assert state["overflow"] <= 0, name  # readable on a phone: nothing wider than the screen
        assert state["scripts"] == 0
        origin = linker.base_url
        assert requests and all(r.startswith(origin) for r in requests), requests
        page.screenshot(path=str(ARTIFACTS / f"citation-{name}.png"))
        page.close()


def test_browser_hostile_article_runs_no_script_and_requests_nothing(
        server: BotHTTPServer, store: Store, linker: Linker, browser: Any) -> None:
    cite, _ = quote_citation(store, "harbour-statement")
    page, requests, response = _open(browser, linker.citation_url(cite, OPEN), 1280, 900)
    assert response.status == 200
    assert page.title() == 'Harbour <statement> & "reply"'  # the script in the text never ran
    assert page.evaluate("document.images.length") == 0
    assert [r for r in requests if not r.startswith(linker.base_url)] == []
    links = page.evaluate("Array.from(document.links).map(a => a.href)")
    assert sorted(links) == sorted([linker.citation_url(cite, OPEN), "https://news.example/harbour-statement"])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hostile.png"), full_page=True)


def test_browser_gets_403_for_tampered_expired_and_out_of_scope(
        server: BotHTTPServer, store: Store, linker: Linker, clock: Clock, browser: Any) -> None:
    cite, _ = quote_citation(store, "harbour-strike-gazette")
    url = linker.citation_url(cite, OPEN)
    page = browser.new_page()
    assert page.goto(url.replace("/c/", "/c/x")).status == 403
    assert "expired or was altered" in page.content()
    assert page.goto(linker.citation_url(cite, TRAMS_ONLY)).status == 403
    clock.now += 7200
    assert page.goto(url).status == 403
    page.close()


def test_settings_and_app_build_the_linker_from_an_existing_secret(tmp_path: Path) -> None:
    from bot.app import App
    from bot.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="BRIEFBOT_PUBLIC_URL"):
        Settings.from_env({"BRIEFBOT_PUBLIC_URL": "javascript:alert(1)"})
    base = {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/a.db"}
    assert App.from_settings(Settings.from_env(base)).linker() is None  # no public URL: no pages
    env = {**base, "BRIEFBOT_PUBLIC_URL": "https://bot.example/", "SLACK_SIGNING_SECRET": "s3cr3t-signing"}
    app = App.from_settings(Settings.from_env(env))
    linker = app.linker()
    assert linker is not None and linker.base_url == "https://bot.example" and linker.ttl == 30 * 86400
    url = linker.citation_url(Citation(n=1, source="x", text="", doc_id=1, start=0, end=3), OPEN)
    assert "s3cr3t" not in url and url.startswith("https://bot.example/c/")
    own = App.from_settings(Settings.from_env({**env, "BRIEFBOT_LINK_SECRET": "other", "BRIEFBOT_LINK_TTL": "2h"}))
    other = own.linker()
    assert other is not None and other.ttl == 7200
    with pytest.raises(ValueError, match="bad signature"):
        other.verify(url.rsplit("/", 1)[1].removesuffix("#q"), "c")
    assert "other" in own.secrets()
    app.close()
    own.close()
