"""Feeds end to end through the CLI: a registered feed polled twice, the second time a conditional GET."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, run_cli

FIXTURES = ROOT / "tests" / "fixtures" / "web"


class FeedSite:
    """A local site: /feed.xml (with an ETag) and its article pages; records every request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                site.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                if self.path == "/feed.xml":
                    if self.headers.get("If-None-Match") == '"v1"':
                        self.send_response(304)
                        self.end_headers()
                        return
                    body = (FIXTURES / "rss.xml").read_text(encoding="utf-8").replace("{{BASE}}", site.base)
                    self._send(200, body.encode(), "application/rss+xml", {"ETag": '"v1"'})
                    return
                path = FIXTURES / self.path.lstrip("/")
                if self.path.endswith(".html") and path.is_file():
                    self._send(200, path.read_bytes(), "text/html; charset=utf-8")
                else:
                    self._send(404, b"not found", "text/plain")

            def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def site() -> Iterator[FeedSite]:
    s = FeedSite()
    yield s
    s.close()


def test_feed_source_polled_then_not_modified(tmp_path: Path, site: FeedSite) -> None:
    env = {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/f.db"}
    feed = site.base + "/feed.xml"
    assert run_cli("sources", "add", feed, "--every", "15m", env=env).returncode == 0
    first = run_cli("run", "--once", env=env)
    assert first.returncode == 0, first.stderr
    docs = json.loads(run_cli("docs", "--json", env=env).stdout)
    locations = {d["source"] for d in docs}
    assert site.base + "/story-ferries.html" in locations and site.base + "/story-market.html" in locations
    # the entry whose page is gone was kept from the feed's own text, or reported: never silently lost
    gone = site.base + "/story-gone.html"
    assert gone in locations or "story-gone" in first.stderr
    # what a poll stores is put into stories at once, not by the next reader
    assert f"assigned {len(docs)} documents to stories" in first.stderr
    second = run_cli("run", "--once", env=env)
    assert second.returncode == 0 and "to stories" not in second.stderr
    feed_gets = [h for p, h in site.requests if p == "/feed.xml"]
    assert len(feed_gets) == 2 and feed_gets[1].get("if-none-match") == '"v1"'
    assert "unchanged since the last poll" in second.stderr or "0 new" in second.stderr
    assert len(json.loads(run_cli("docs", "--json", env=env).stdout)) == len(docs)
    listed = json.loads(run_cli("sources", "list", "--json", env=env).stdout)[0]
    assert listed["etag"] == '"v1"' and listed["last_polled"]


def test_ingest_url_and_bad_urls_report_reasons(tmp_path: Path, site: FeedSite) -> None:
    env = {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/u.db"}
    p = run_cli("ingest", site.base + "/story-ferries.html", site.base + "/missing.html", "http://127.0.0.1:9/x",
                "--json", env=env)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    by_loc = {i["location"]: i for i in out["items"]}
    assert by_loc[site.base + "/story-ferries.html"]["outcome"] == "new"
    assert "404" in by_loc[site.base + "/missing.html"]["reason"]
    refused = by_loc["http://127.0.0.1:9/x"]
    assert refused["outcome"] == "skipped" and refused["reason"]
