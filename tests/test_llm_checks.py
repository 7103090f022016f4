"""`briefbot doctor`'s LLM server checks against the fake OpenAI server: each setup trap named in one line with
its fix, and the structured-output mode learned once and remembered per server across runs."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import App
from bot.config import ConfigError, Settings
from bot.store import open_store
from tests.conftest import run_cli
from tests.fakes.openai_server import FakeOpenAIServer


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(model="qwen2.5-1.5b-instruct") as srv:
        yield srv


def app_for(tmp_path: Path, **env: str) -> App:
    return App(settings=Settings.from_env(env), store=open_store(f"sqlite:///{tmp_path}/c.db"))


def lines(app: App) -> dict[str, tuple[bool, str]]:
    return {c.name: (c.ok, c.line) for c in app.llm_checks()}


def test_a_working_llama_cpp_like_server_passes_and_its_mode_is_remembered(tmp_path: Path,
                                                                          server: FakeOpenAIServer) -> None:
    server.enqueue_text("OK")  # the one-token call
    server.enqueue_reject_json_schema()  # llama.cpp: HTTP 500 for json_schema
    server.enqueue_text('{"ok": true}')
    env = {"OPENAI_BASE_URL": server.base_url, "BRIEFBOT_LLM_MODEL": "qwen2.5-1.5b-instruct"}
    got = lines(app_for(tmp_path, **env))
    assert all(ok for ok, _ in got.values()), got
    assert "json_object" in got["structured"][1]
    assert server.bodies[0]["max_tokens"] == 1 and server.bodies[0]["temperature"] == 0
    # the next run starts from json_object: no json_schema request, no 500, one attempt
    server.enqueue_text(json.dumps({"answer": "", "found": False}))
    backend = app_for(tmp_path, **env).llm_backend()
    assert backend.transport.mode == "json_object"  # type: ignore[attr-defined]


def test_a_base_url_without_v1_is_named_with_the_fix(tmp_path: Path, server: FakeOpenAIServer) -> None:
    got = lines(app_for(tmp_path, OPENAI_BASE_URL=server.url))
    ok, line = got["server"]
    assert not ok and f"OPENAI_BASE_URL={server.url.rstrip('/')}/v1" in line and "404" in line
    assert len(got) == 1  # nothing else is worth checking until that is fixed


def test_an_unknown_model_is_named_with_the_models_the_server_has(tmp_path: Path, server: FakeOpenAIServer) -> None:
    server.enqueue_status(404, message="The model `gpt-4o-mini` does not exist.")  # Ollama and vLLM say so
    got = lines(app_for(tmp_path, OPENAI_BASE_URL=server.base_url))  # the default model, gpt-4o-mini
    ok, line = got["model"]
    assert not ok and "'gpt-4o-mini'" in line and "it has: qwen2.5-1.5b-instruct" in line
    assert "BRIEFBOT_LLM_MODEL" in line
    ok, line = got["completion"]
    assert not ok and "HTTP 404" in line and "BRIEFBOT_LLM_MODEL" in line


def test_an_unreachable_server_and_a_model_that_writes_no_json(tmp_path: Path, server: FakeOpenAIServer) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ok, line = lines(app_for(tmp_path, OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1"))["server"]
    assert not ok and "cannot reach" in line and "OPENAI_BASE_URL" in line
    server.enqueue_text("OK")
    for _ in range(3):
        server.enqueue_text("Sure! Here you go: ok is true")
    got = lines(app_for(tmp_path, OPENAI_BASE_URL=server.base_url, BRIEFBOT_LLM_MODEL="qwen2.5-1.5b-instruct",
                        BRIEFBOT_LLM_STRUCTURED="none"))
    ok, line = got["structured"]
    assert not ok and "invalid_json" in line and "extractive" in line


def test_doctor_in_a_subprocess_prints_one_line_per_check_and_fails(tmp_path: Path, server: FakeOpenAIServer) -> None:
    env = {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/d.db", "OPENAI_BASE_URL": server.url,
           "OPENAI_API_KEY": "sk-doctor-Secret123"}
    p = run_cli("doctor", env=env)
    assert p.returncode == 1
    fail = [line for line in p.stdout.splitlines() if "FAIL" in line]
    assert len(fail) == 1 and "/v1" in fail[0]
    assert "sk-doctor-Secret123" not in p.stdout + p.stderr


@pytest.mark.parametrize(("name", "value"), [("BRIEFBOT_LLM_STRUCTURED", "xml"), ("BRIEFBOT_LLM_TEMPERATURE", "hot"),
                                             ("BRIEFBOT_LLM_TEMPERATURE", "3"), ("BRIEFBOT_LLM_CONTEXT", "100")])
def test_bad_llm_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_usage_reports_answers_by_outcome_and_labels_estimates(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/u.db")
    rows = [("ok", "verified", False), ("ok", "partly_dropped", False), ("ok", "fell_back", True),
            ("timeout", "timed_out", False), ("ok", "refused", False), ("ok", "verified", False)]
    for outcome, result, estimated in rows:
        call = store.log_llm_call({"purpose": "answer", "model": "qwen2.5", "tokens_in": 100, "tokens_out": 10,
                                   "outcome": outcome, "estimated": estimated})
        store.llm_call_outcome(call, result, "why")
    store.close()
    p = run_cli("usage", env={"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path}/u.db"})
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    assert out[0].startswith("qwen2.5 answer: 6 calls, 600 tokens in, 60 out") and "partly estimated" in out[0]
    assert [line.split(None, 1) for line in out[1:]] == [
        ["2", "verified"], ["1", "fell back"], ["1", "partly dropped"], ["1", "refused (model found no answer)"],
        ["1", "timed out"]]  # most first, then by name
