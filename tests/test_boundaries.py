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


# What an adapter may take from the rest of the bot besides its own platform library and its sibling adapter
# modules: the Service it calls, the domain it renders, and two edge helpers, each for a reason.
ADAPTER_MAY_IMPORT = ("bot.service", "bot.domain", "bot.adapters")
ADAPTER_EDGE_HELPERS = {
    "bot.http_server": "Slack's HTTP mode mounts on the bot's one HTTP server",
    "bot.citations": "link_spans, the one rule for what looks like a link, so renderers defuse article links",
}
PLATFORMS = ("slack_bolt", "slack_sdk", "discord", "aiohttp")


def test_adapters_import_only_the_service_the_domain_and_commands() -> None:
    for p in sorted((BOT / "adapters").glob("*.py")):
        inner = {m for m in imports(p) if m.startswith("bot.") and not m.startswith(ADAPTER_MAY_IMPORT)}
        assert inner <= set(ADAPTER_EDGE_HELPERS), (p.name, inner - set(ADAPTER_EDGE_HELPERS))


def test_commands_and_runtime_serve_every_platform() -> None:
    commands = imports(BOT / "adapters" / "commands.py")
    assert {m for m in commands if m.startswith("bot.")} == {"bot.service", "bot.domain"}
    runtime = imports(BOT / "adapters" / "runtime.py")
    assert not {m for m in commands | runtime if m.startswith(PLATFORMS)}
    assert not {m for m in runtime if m.startswith("bot.")}  # it runs callables; it knows nothing of the core


def test_only_app_and_cli_read_settings() -> None:
    readers = set()
    for p in sorted(BOT.rglob("*.py")):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.ImportFrom) and node.module == "bot.config"
                    and any(a.name == "Settings" for a in node.names)):
                readers.add(p.relative_to(ROOT).as_posix())
    assert readers <= {"bot/app.py", "bot/cli.py"}, readers


# llm/ is transport only: it may implement a seam the core defines (bot.embed's Embedder) but knows nothing of
# answers, briefs, search, questions or the store; the drafters beside answer.py and brief.py import it.
LLM_MAY_IMPORT = ("bot.llm", "bot.embed")
NOT_FROM_LLM = ("bot.answer", "bot.brief", "bot.search", "bot.question", "bot.store", "bot.drafting", "bot.text")


def test_llm_is_transport_only() -> None:
    for p in sorted((BOT / "llm").glob("*.py")):
        inner = {m for m in imports(p) if m == "bot" or m.startswith("bot.")}
        assert not {m for m in inner if m.startswith(NOT_FROM_LLM)}, p.name
        assert all(m.startswith(LLM_MAY_IMPORT) for m in inner), (p.name, inner)
