"""The core's boundary, read from the source: answering, briefs, quotes and storage import no chat platform, no
HTTP server or client, and no LLM SDK; only the edges (adapters, app wiring, CLI, runner, transports) do."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

BOT = ROOT / "bot"
EDGES = {"bot/app.py", "bot/cli.py", "bot/runner.py", "bot/http_server.py", "bot/procs.py", "bot/__main__.py",
         "bot/scheduler.py"}
EDGE_DIRS = ("bot/adapters/", "bot/llm/", "bot/ingest/", "bot/web/")
FORBIDDEN = ("slack_bolt", "slack_sdk", "discord", "openai", "waitress", "httpx", "httpcore", "aiohttp",
             "bot.adapters", "bot.http_server", "bot.runner", "bot.cli", "bot.app", "bot.llm.openai")


def imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
    return out


def test_the_core_imports_no_platform_server_or_llm_sdk() -> None:
    core = [p for p in sorted(BOT.rglob("*.py"))
            if (rel := p.relative_to(ROOT).as_posix()) not in EDGES and not rel.startswith(EDGE_DIRS)]
    assert len(core) > 20  # answer, selection, question, search, citations, brief, quotes, store, ...
    bad = {p.relative_to(ROOT).as_posix(): sorted(m for m in imports(p) if m.startswith(FORBIDDEN))
           for p in core}
    assert {k: v for k, v in bad.items() if v} == {}


def test_adapters_reach_the_core_only_through_the_service() -> None:
    for p in sorted((BOT / "adapters").glob("*.py")):
        inner = {m for m in imports(p) if m.startswith(("bot.answer", "bot.selection", "bot.search", "bot.store",
                                                         "bot.brief", "bot.question"))}
        assert not inner, (p.name, inner)
