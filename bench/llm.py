"""The LLM path against a local OpenAI-compatible server: what becomes of its answers, what they cost, how long
they take, and how soon a hung server gives way to the extractive answer.

    PYTHONPATH=. .venv/bin/python bench/llm.py                       # the fake server (a stand-in model)
    PYTHONPATH=. .venv/bin/python bench/llm.py --url http://127.0.0.1:8080/v1 --model qwen2.5-1.5b
    PYTHONPATH=. .venv/bin/python bench/llm.py --gguf .cache/models/gemma3-270m-q4_k_m.gguf --chat-format gemma

Prints, for the dev and natural questions of ../shared/eval (20 by default) asked of the seed corpus:
- answers by outcome: verified, partly dropped, fell back (why), timed out, refused;
- of the model's sentences shown to a user, the share the checks call supported and the share that is
  strictly supported (every content word, name and number in the cited text) — the machine's half of a reader's
  judgement; --show prints each shown sentence with its cited text for the human half;
- prompt tokens per answer and per brief (our count and the server's), latency p50/p95;
- time to the extractive answer when the server hangs (a fake server that never answers), against the target
  of the deadline + 1 s.
The fake server's stand-in model copies its first source and, every third question, adds an invented sentence:
its figures test the pipeline, not a model. --gguf starts llama-cpp-python's server on a free loopback port.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import App  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.ingest.pipeline import Ingester  # noqa: E402
from bot.quotes import extract_quotes  # noqa: E402
from bot.store import open_store  # noqa: E402
from bot.support import claims, sentences, support  # noqa: E402
from tests.fakes.openai_server import FakeOpenAIServer  # noqa: E402

SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "corpus" / "seeds"
EVAL = SHARED / "eval"


def questions(n_dev: int, n_natural: int) -> list[str]:
    """The first dev and natural questions of the shared evaluation set."""
    out = []
    for name, n in (("qa_dev.jsonl", n_dev), ("qa_natural_dev.jsonl", n_natural)):
        rows = [json.loads(line) for line in (EVAL / name).read_text(encoding="utf-8").splitlines() if line.strip()]
        out += [r["question"] for r in rows[:n]]
    return out


def stand_in(request: Any) -> str:
    """The fake server's model: copies its first source (an answer) or first sentences (a brief); every third
    answer adds a sentence no source supports."""
    user = request["messages"][-1]["content"] if isinstance(request, dict) else ""
    listed = re.findall(r"^\[(\d+)\] (?:\([^)]*\) )?(.+)$", user, re.M)  # without "(quote by X)" or "(outlet)"
    if "Sentences:" in user:
        points = [{"text": text, "citations": [int(n)]} for n, text in listed[:4]]
        return json.dumps({"headline": listed[0][1][:90] if listed else "", "summary": points[0] if points else {},
                           "key_points": points[1:], "differences": []})
    if not listed:
        return json.dumps({"answer": "", "citations": [], "found": False})
    stand_in.count = getattr(stand_in, "count", 0) + 1  # type: ignore[attr-defined]
    answer = f"{listed[0][1]} [1]"
    if stand_in.count % 3 == 0:  # type: ignore[attr-defined]
        answer += " The talks will resume in Geneva in 2031 [1]."
    return json.dumps({"answer": answer, "citations": [1], "found": True})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_llama(gguf: str, chat_format: str, n_ctx: int) -> tuple[subprocess.Popen[bytes], str]:
    """llama-cpp-python's OpenAI-compatible server on a free loopback port, once it answers /v1/models."""
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", gguf, "--n_threads", "2", "--n_ctx", str(n_ctx),
           "--host", "127.0.0.1", "--port", str(port)] + (["--chat_format", chat_format] if chat_format else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    until = time.monotonic() + 180
    while time.monotonic() < until:
        if proc.poll() is not None:
            raise SystemExit(f"llama.cpp server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/models", timeout=2):
                return proc, base
        except OSError:
            time.sleep(0.5)  # polling a server that is loading its model
    proc.kill()
    raise SystemExit("llama.cpp server not ready in 180 s")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def strictly_supported(sentence: str, cited: list[str]) -> bool:
    """Every content word of the sentence (by stem), every name and number, is in its cited text."""
    share, why = support(sentence, cited)
    return why is None and share >= 0.999 and any(claims(sentence))


def run_answers(base_url: str, model: str, qs: list[str], deadline: float, timeout: float, context: int,
                show: bool) -> dict[str, Any]:
    tmp = tempfile.mkdtemp(prefix="bench-llm-")
    env = {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp}/b.db", "OPENAI_BASE_URL": base_url, "BRIEFBOT_LLM_MODEL":
           model, "BRIEFBOT_LLM_DEADLINE": str(deadline), "BRIEFBOT_LLM_TIMEOUT": str(timeout),
           "BRIEFBOT_LLM_CONTEXT": str(context), "BRIEFBOT_EMBEDDER": "none"}
    store = open_store(env["BRIEFBOT_DATABASE_URL"])
    Ingester(store, extract_quotes=extract_quotes).ingest([str(SEEDS)])
    app = App(settings=Settings.from_env(env), store=store)
    answerer = app.answerer()
    outcomes: Counter[str] = Counter()
    whys: Counter[str] = Counter()
    latencies, counted, served = [], [], []
    shown = checked_ok = strict = 0
    for q in qs:
        started = time.monotonic()
        ans = answerer.ask(q)
        latencies.append(time.monotonic() - started)
        outcomes[ans.outcome or "no model call"] += 1
        if ans.outcome in ("fell_back", "timed_out"):
            whys[re.sub(r"“[^”]*”|\d+", "…", ans.why.removeprefix("fell back to the extractive answer: "))[:90]] += 1
        if ans.usage.get("prompt_tokens_counted"):
            counted.append(ans.usage["prompt_tokens_counted"])
            served.append(ans.usage.get("tokens_in") or 0)
        if ans.backend == "openai":
            by_n = {c.n: c.text for c in ans.citations}
            for s in sentences(ans.text):
                cited = [by_n[n] for n in map(int, re.findall(r"\[(\d+)", s)) if n in by_n]
                shown += 1
                checked_ok += support(s, cited)[1] is None
                strict += strictly_supported(s, cited)
                if show:
                    print(f"  SHOWN  {q}\n    {s}\n    cited: {' | '.join(c[:200] for c in cited)}")
            for d in ans.dropped if show else []:
                print(f"  DROPPED {d['sentence'][:120]!r}: {d['why']}")
    brief_tokens, brief_served, brief_s = [], [], []
    builder = app.brief_builder()
    started = time.monotonic()
    brief = builder()
    brief_s.append(time.monotonic() - started)
    if brief.usage.get("calls"):
        brief_tokens.append(brief.usage["prompt_tokens_counted"] / brief.usage["calls"])
        brief_served.append(brief.usage["tokens_in"] / brief.usage["calls"])
    calls = store.llm_calls(limit=1000)
    brief_results = Counter(c["result"] or c["outcome"] for c in calls if c["purpose"] == "brief")
    app.close()
    return {"n": len(qs), "outcomes": dict(outcomes), "why": dict(whys.most_common(6)), "shown": shown,
            "checked_ok": checked_ok, "strict": strict, "latency_p50": pct(latencies, 0.5),
            "latency_p95": pct(latencies, 0.95), "tokens_counted": statistics.mean(counted) if counted else 0,
            "tokens_served": statistics.mean(served) if served else 0, "brief_tokens": brief_tokens,
            "brief_served": brief_served, "brief_s": brief_s, "brief_results": dict(brief_results),
            "estimated": any(c["estimated"] for c in calls)}


def hang(deadline: float, tries: int) -> list[float]:
    """Seconds from question to the extractive answer with a server that holds every request past the timeout."""
    out = []
    with FakeOpenAIServer() as server:
        tmp = tempfile.mkdtemp(prefix="bench-hang-")
        env = {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp}/h.db", "OPENAI_BASE_URL": server.base_url,
               "BRIEFBOT_LLM_DEADLINE": str(deadline), "BRIEFBOT_LLM_TIMEOUT": "60", "BRIEFBOT_EMBEDDER": "none"}
        store = open_store(env["BRIEFBOT_DATABASE_URL"])
        Ingester(store, extract_quotes=extract_quotes).ingest([str(SEEDS)])
        app = App(settings=Settings.from_env(env), store=store)
        answerer = app.answerer()
        for _ in range(tries):
            server.enqueue_sleep(deadline + 30)
            started = time.monotonic()
            ans = answerer.ask("What did Navarro say about Modi?")
            out.append(time.monotonic() - started)
            assert ans.backend == "extractive" and ans.outcome == "timed_out", (ans.backend, ans.outcome)
        app.close()
    return out


def report(label: str, r: dict[str, Any]) -> None:
    n = r["n"]
    print(f"\n== {label}: {n} questions")
    for k, v in sorted(r["outcomes"].items(), key=lambda kv: -kv[1]):
        print(f"  {k:<16} {v:>3}  ({v / n:.0%})")
    for why, c in r["why"].items():
        print(f"    {c:>3} × {why}")
    if r["shown"]:
        print(f"  model sentences shown: {r['shown']}; supported by the checks {r['checked_ok'] / r['shown']:.0%}, "
              f"strictly (every content word in the cited text) {r['strict'] / r['shown']:.0%}")
    else:
        print("  model sentences shown: 0")
    est = " (server counts; ours are estimates for this model)" if r["estimated"] else ""
    print(f"  prompt tokens per answer: {r['tokens_counted']:.0f} counted here, {r['tokens_served']:.0f} by the "
          f"server{est}")
    if r["brief_tokens"]:
        print(f"  prompt tokens per brief: {r['brief_tokens'][0]:.0f} counted here, {r['brief_served'][0]:.0f} by "
              f"the server; brief took {r['brief_s'][0]:.1f} s; brief calls: {r['brief_results']}")
    print(f"  answer latency p50 {r['latency_p50']:.2f} s, p95 {r['latency_p95']:.2f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="a running OpenAI-compatible server (loopback), e.g. http://127.0.0.1:8080/v1")
    ap.add_argument("--gguf", help="start llama-cpp-python's server with this model file")
    ap.add_argument("--chat-format", default="", help="llama-cpp-python chat format (gemma for Gemma 3)")
    ap.add_argument("--model", default="", help="model name sent (default: fake-model or the GGUF's name)")
    ap.add_argument("--dev", type=int, default=12, help="dev questions (default 12)")
    ap.add_argument("--natural", type=int, default=8, help="natural questions (default 8)")
    ap.add_argument("--deadline", type=float, default=20.0, help="per-answer deadline in seconds (default 20)")
    ap.add_argument("--timeout", type=float, default=120.0, help="transport timeout in seconds (default 120)")
    ap.add_argument("--context", type=int, default=4096, help="the server's context size (default 4096)")
    ap.add_argument("--hang-deadline", type=float, default=2.0, help="deadline for the hung-server figure")
    ap.add_argument("--show", action="store_true", help="print every shown and dropped model sentence")
    a = ap.parse_args()
    qs = questions(a.dev, a.natural)
    proc = None
    try:
        if a.gguf:
            proc, url = start_llama(a.gguf, a.chat_format, a.context)
            label, model = f"llama.cpp {Path(a.gguf).name}", a.model or Path(a.gguf).stem
            r = run_answers(url, model, qs, a.deadline, a.timeout, a.context, a.show)
        elif a.url:
            label, model = a.url, a.model or "local"
            r = run_answers(a.url, model, qs, a.deadline, a.timeout, a.context, a.show)
        else:
            with FakeOpenAIServer() as server:
                server.responder = stand_in
                label, model = "fake server, stand-in model", a.model or "fake-model"
                r = run_answers(server.base_url, model, qs, a.deadline, a.timeout, a.context, a.show)
        report(label, r)
    finally:
        if proc is not None:
            proc.terminate()  # llama.cpp finishes the request in hand first: give it a while, then kill it
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    times = hang(a.hang_deadline, 3)
    print(f"\n== hung server: extractive answer after {', '.join(f'{t:.2f}' for t in times)} s with a "
          f"{a.hang_deadline:g} s deadline (target ≤ {a.hang_deadline + 1:g} s): "
          f"{'met' if max(times) <= a.hang_deadline + 1 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
