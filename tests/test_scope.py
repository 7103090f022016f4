"""Per-channel source scoping: a channel limited to some sources never sees the others."""

from __future__ import annotations

import json
from pathlib import Path

from bot.answer import Answerer
from bot.brief import BriefBuilder
from bot.core import Core
from bot.domain import Channel
from bot.ingest.pipeline import Ingester
from bot.quotes import extract_quotes
from bot.store import open_store
from bot.store.sqlite import SQLiteStore
from tests.conftest import ROOT, SEEDS, need, run_cli

SAMPLES = ROOT / "bot" / "samples"


def test_scoped_channel_cites_only_its_sources(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    assert isinstance(store, SQLiteStore)
    Ingester(store, extract_quotes=extract_quotes).ingest([str(need(SEEDS)), str(SAMPLES)])
    core = Core(store, Answerer(store), BriefBuilder(store))
    docks = Channel("slack", "C-DOCKS", "U1")
    world = Channel("slack", "C-WORLD", "U2")
    store.set_channel_sources("slack", "C-DOCKS", ["harbour-strike-courier.txt", "harbour-strike-gazette.txt"])
    # the seeds answer this everywhere but in the dock channel
    open_ans = core.ask("What did Navarro say about Modi?", world)
    assert open_ans.found and "000_4acb8d4b237bf1ea.txt" in open_ans.citations[0].source
    scoped = core.ask("What did Navarro say about Modi?", docks)
    assert not scoped.found and scoped.citations == []
    strike = core.ask("What did Vale say about retraining?", docks)
    assert strike.found and all("harbour-strike" in c.source for c in strike.citations)
    assert core.document_count(docks) == 2 and core.document_count(world) == 8
    brief = core.brief(None, docks)
    assert [len(s.sources) for s in brief.stories] == [2]
    assert all("harbour-strike" in src["source"] for s in brief.stories for src in s.sources)
    # another platform's channel with the same id is not scoped
    assert core.ask("What did Navarro say about Modi?", Channel("discord", "C-DOCKS")).found


def test_scope_command(tmp_path: Path) -> None:
    env = {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/c.db"}
    p = run_cli("scope", "slack", "C1", "harbour", "riverside", "--json", env=env)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["sources"] == ["harbour", "riverside"]
    assert "may cite every source" in run_cli("scope", "slack", "C1", "--clear", env=env).stdout
    bad = run_cli("scope", "teams", "C1", env=env)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_not_found_wording_reveals_nothing_out_of_scope(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    assert isinstance(store, SQLiteStore)
    Ingester(store, extract_quotes=extract_quotes).ingest([str(need(SEEDS)), str(SAMPLES)])
    a = Answerer(store)
    docks = ["harbour-strike-courier.txt", "harbour-strike-gazette.txt"]
    known_elsewhere = a.ask("What did Navarro say about Modi?", sources=docks)
    unknown = a.ask("What did Zebulon Quartz say about Modi?", sources=docks)
    def neutral(text: str, *names: str) -> str:
        for n in names:
            text = text.replace(n, "X")
        return text

    assert neutral(known_elsewhere.text, "Navarro", "navarro") == \
        neutral(unknown.text, "Zebulon Quartz", "zebulon, quartz")


def test_overlapping_scope_patterns_count_each_document_once(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    Ingester(store).ingest([str(SAMPLES)])
    core = Core(store, Answerer(store), BriefBuilder(store))  # type: ignore[arg-type]
    store.set_channel_sources("slack", "C2", ["samples", "harbour-strike-gazette.txt"])
    assert core.document_count(Channel("slack", "C2")) == 3


def test_naming_an_outlet_never_widens_a_scope(tmp_path: Path) -> None:
    # "according to the Gazette" narrows an open channel to the Gazette, and leaves a scoped one as it is
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    Ingester(store, extract_quotes=extract_quotes).ingest([str(SAMPLES)])
    a = Answerer(store)
    q = "How many vessels were waiting to berth according to the Gazette?"
    open_ans = a.ask(q)
    assert open_ans.found and all("gazette" in c.source for c in open_ans.citations)
    scoped = a.ask(q, sources=["harbour-strike-courier.txt"])
    assert all("courier" in c.source for c in scoped.citations)


def test_scope_command_refuses_what_names_no_source(tmp_path: Path) -> None:
    env = {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/c.db"}
    p = run_cli("scope", "slack", "C1", "~bbc", env=env)
    assert p.returncode == 2 and "'~bbc' is not one" in p.stderr
