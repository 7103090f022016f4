"""Score qa and chat sets in one process (the referee's own check, without a process per question).

The referee (`../shared/eval/score.py`) runs `briefbot ask` once per question; over every dev and held-out set that
is several minutes. This loads the bot once, asks through the same Service path as `ask --json` / `chat --json`,
and judges each answer with the referee's `check_answer`, so the figures match its CLI run on the same database.

    .venv/bin/python bench/heldout/score_inproc.py --db /tmp/plain.db nat chat ho h2 h3 h4 h5 h6 hc hc3 hc4 hc5 hc6
    .venv/bin/python bench/heldout/score_inproc.py --db /tmp/plain.db h5 --ids h5-09 h5-27 --show

--db: a SQLite file holding seeds + BBC as `briefbot ingest ../shared/corpus` leaves it (it is read, and the answers
and conversation turns it records are written to it: use a copy). Without --db, a temporary one is ingested first
(about 3 s). Set names: dev, nat, chat (../shared/eval) and ho, h2 … h10, hc, hc3 … hc10 (this directory).
--show prints every answer, --failing the failing ones.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import types
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHARED = REPO.parent / "shared"
SETS = {
    "dev": (SHARED / "eval" / "qa_dev.jsonl", "qa"),
    "nat": (SHARED / "eval" / "qa_natural_dev.jsonl", "qa"),
    "chat": (SHARED / "eval" / "chat_dev.jsonl", "chat"),
    "ho": (HERE / "qa_heldout.jsonl", "qa"),
    "hc": (HERE / "chat_heldout.jsonl", "chat"),
    **{f"h{n}": (HERE / f"qa_heldout{n}.jsonl", "qa") for n in range(2, 11)},
    **{f"hc{n}": (HERE / f"chat_heldout{n}.jsonl", "chat") for n in range(3, 11)},
}


def _referee() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("referee_score", SHARED / "eval" / "score.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"the referee is not at {SHARED / 'eval' / 'score.py'}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sets", nargs="+", choices=sorted(SETS))
    ap.add_argument("--db", help="SQLite file holding seeds + BBC (a copy: answers are recorded in it)")
    ap.add_argument("--ids", nargs="*", default=[], help="only these item ids")
    ap.add_argument("--show", action="store_true", help="print every answer")
    ap.add_argument("--failing", action="store_true", help="print the failing answers")
    a = ap.parse_args()
    score = _referee()
    sys.path.insert(0, str(REPO))
    import dataclasses

    from bot.app import App
    from bot.config import Settings
    from bot.domain import Channel
    from bot.ingest.pipeline import Ingester
    from bot.quotes import extract_quotes

    tmp = None
    if a.db:
        url = f"sqlite:///{Path(a.db).resolve()}"
    else:
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite:///{tmp.name}/s.db"
    app = App.from_settings(dataclasses.replace(Settings.from_env(), database_url=url))
    if tmp is not None:
        Ingester(app.store, extract_quotes=extract_quotes).ingest([str(SHARED / "corpus")])
        app.brief_builder("extractive").catch_up()
    core = app.core(None)
    judge = types.SimpleNamespace(corpus=str(SHARED / "corpus"))
    ids = set(a.ids)
    totals = []
    for name in a.sets:
        path, kind = SETS[name]
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        results = []
        for r in rows:
            if ids and r["id"] not in ids:
                continue
            turns = [r] if kind == "qa" else r["turns"]
            key = f"cli:{uuid.uuid4().hex[:12]}" if kind == "chat" else None
            for i, t in enumerate(turns):
                out = core.ask(t["question"], Channel("cli", "score"), conversation=key).to_json()
                item = dict(t, id=r["id"] if kind == "qa" else f"{r['id']}.{i + 1}", style=r.get("style", ""))
                item.setdefault("must_include", [])
                item.setdefault("sources", [])
                item.setdefault("kind", "fact")
                why, _ = score.check_answer(judge, item, out, None)
                if kind == "qa" or i > 0:  # a conversation's first turn sets the context; follow-ups are scored
                    results.append((item, not why))
                print(("PASS" if not why else "FAIL"), item["id"], item["question"][:100]
                      + ("" if not why else "\n     " + "; ".join(why)))
                if a.show or (a.failing and why):
                    print("   ->", out.get("found"), out.get("answer", "")[:600].replace("\n", " | "))
        score.report(results, name)
        totals.append((name, sum(ok for _, ok in results), len(results)))
    print("\n" + "  ".join(f"{n} {p}/{t}" for n, p, t in totals))
    app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
