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
    store.set_channel_sources("slack", "C-DOCKS", ["harbour-strike"])
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
    known_elsewhere = a.ask("What did Navarro say about Modi?", sources=["harbour-strike"])
    unknown = a.ask("What did Zebulon Quartz say about Modi?", sources=["harbour-strike"])
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
    store.set_channel_sources("slack", "C2", ["harbour", "harbour-strike-gazette"])
    assert core.document_count(Channel("slack", "C2")) == 2
