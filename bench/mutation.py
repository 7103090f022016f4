"""Mutation score per module: how many small bugs planted in the code the tests notice.

    .venv/bin/python bench/mutation.py [--module NAME ...] [--sample 40] [--seed 1] [--list]

Each mutant changes one thing in one module: a comparison flipped (== and !=, < and >=, in and not in),
`and` and `or` swapped, a `not` dropped, an integer constant moved by one, a statement deleted (replaced by
`pass`: a `continue`, a `return`, an assignment, a call). Mutants are made from the module's syntax tree and
written into a copy of the repository (never into this tree), one at a time; the tests that cover the module
run against it and the mutant is killed when they fail (or time out). Survivors are printed with their line:
each is a bug no test would notice, or an equivalent mutant (same behaviour), which is listed in EQUIVALENT
below with its reason and left out of the score.

Modules and the tests that cover them are in MODULES; `--sample N` takes N mutants a module (seeded), 0 for
all of them. Standard library only (plus the repository's own test environment).
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

_CLAIM_TESTS = ["tests/test_store_backends.py::test_claim_slot_lease_and_posted",
                "tests/test_store_backends.py::test_claims_race_across_processes"]
# module -> (the tests that cover it: files or pytest node ids, fastest first since -x stops at the first failure;
#            the functions to mutate, None for all of the module)
MODULES: dict[str, tuple[list[str], list[str] | None]] = {
    "bot/citations.py": (["tests/test_citations.py", "tests/test_answer.py", "tests/test_answer_pipeline.py",
                          "tests/test_verified_output.py", "tests/test_answer_llm.py"], None),
    "bot/digest.py": (["tests/test_digest.py", "tests/test_brief_digest.py", "tests/test_stories.py"], None),
    "bot/ingest/clean.py": (["tests/test_clean.py", "tests/test_ingest.py"], None),
    "bot/quotes/attr.py": (["tests/test_quotes_attribution.py", "tests/test_quotes.py"], None),
    # the slot claim is written once for both backends (the Postgres tests skip without a server at 127.0.0.1:5432;
    # BRIEFBOT_TEST_POSTGRES=1 makes that a failure)
    "bot/store/chat.py": (["tests/test_digest.py", "tests/test_brief_digest.py", *_CLAIM_TESTS], ["claim_slot"]),
}

# (module, line, column, mutation) -> why the mutant behaves exactly like the original
EQUIVALENT: dict[tuple[str, int, int, str], str] = {
    ("bot/digest.py", 64, 25, "8 -> 9"):
        "a ninth day back is read only when none of the last eight held a slot, and every cadence has one in them "
        "(daily: today or yesterday; weekdays: within three days; weekly: within seven)",
    ("bot/citations.py", 42, 49, "10 -> 9"):
        "a marker of absurd length becomes 9**18 instead of 10**18: either way a number no citation has",
    ("bot/quotes/attr.py", 267, 19, "0 -> 1"):
        "seg[0] > seg[1] only when the token before the comma is a comma or a quotation; then the speaker check "
        "fails on is_cap(',') and the description is the empty slice, which is falsy like None",
    ("bot/quotes/attr.py", 418, 41, "1 -> 0"): "LABEL's group 1 starts where the match starts: m.start(0) == m.start(1)",
    ("bot/quotes/attr.py", 557, 32, "Eq flipped"):
        "the loop above strips leading STOP_CAPS words from a phrase of two or more, so the test only ever holds "
        "for one word, and one STOP_CAPS word is refused further on (capitalised: as a one-word key in STOP_CAPS; "
        "lower case: not an ORG_HEADS word, and no STOP_CAPS word is one)",
    ("bot/quotes/attr.py", 650, 21, "200 -> 201"):
        "only the five most recent sentence starts are read: when 200 (or 201) characters hold six starts the "
        "oldest, cut-off segment is never read, and when they hold fewer both look back 600 characters",
    ("bot/quotes/attr.py", 653, 29, "5 -> 6"):
        "with six starts in 200 characters the five segments read are whole sentences whether the loop stops "
        "there or widens to 600 characters (which adds only older ones, beyond the five)",
}

_FLIP = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt,
         ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_DELETABLE = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Continue, ast.Break, ast.Raise)


@dataclass(frozen=True)
class Mutant:
    module: str
    line: int
    col: int  # several mutants may share a line and a description ("1 -> 2" of `range(i - 1, -1, -1)`)
    what: str  # e.g. "== -> !=", "delete return", "3 -> 4"
    start: int  # character offsets of the replaced source in the module
    end: int
    new: str


def _offsets(src: str) -> list[int]:
    out, pos = [0], 0
    for line in src.splitlines(keepends=True):
        pos += len(line)
        out.append(pos)
    return out


def mutants(module: str, functions: list[str] | None) -> list[Mutant]:
    """Every mutant of a module (inside `functions` when given)."""
    src = (ROOT / module).read_text(encoding="utf-8")
    tree = ast.parse(src)
    lines = _offsets(src)

    def span(node: ast.AST) -> tuple[int, int]:
        return (lines[node.lineno - 1] + node.col_offset,  # type: ignore[attr-defined]
                lines[node.end_lineno - 1] + node.end_col_offset)  # type: ignore[attr-defined]

    # inside functions only: a module-level constant deleted breaks the import, which any test notices
    roots: list[ast.AST] = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                            and (not functions or n.name in functions)]
    out: list[Mutant] = []
    seen: set[int] = set()
    for root in roots:  # the body: a parameter's default value is configuration, not logic
        for node in (n for stmt in root.body for n in ast.walk(stmt)):  # type: ignore[attr-defined]
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _FLIP:
                new = ast.Compare(node.left, [_FLIP[type(node.ops[0])]()], node.comparators)
                a, b = span(node)
                out.append(Mutant(module, node.lineno, node.col_offset, f"{type(node.ops[0]).__name__} flipped", a, b,
                                  ast.unparse(new)))
            elif isinstance(node, ast.BoolOp):
                new_op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
                a, b = span(node)
                out.append(Mutant(module, node.lineno, node.col_offset, f"{type(node.op).__name__.lower()} swapped", a, b,
                                  ast.unparse(ast.BoolOp(new_op, node.values))))
            elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
                a, b = span(node)
                out.append(Mutant(module, node.lineno, node.col_offset, "not dropped", a, b, f"({ast.unparse(node.operand)})"))
            elif isinstance(node, ast.Constant) and type(node.value) is int and not isinstance(node.value, bool):
                a, b = span(node)
                for d in (1, -1):
                    out.append(Mutant(module, node.lineno, node.col_offset, f"{node.value} -> {node.value + d}", a, b,
                                      str(node.value + d)))
            if isinstance(node, _DELETABLE) and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
                a, b = span(node)
                out.append(Mutant(module, node.lineno, node.col_offset, f"delete {type(node).__name__.lower()}", a, b, "pass"))
    return out


def apply(src: str, m: Mutant) -> str:
    return src[:m.start] + m.new + src[m.end:]


def run_tests(tree: Path, tests: list[str], timeout: float) -> str:
    """'killed', 'survived' or 'timeout' for the tests in a copy of the repository."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=", *tests]
    try:
        p = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, timeout=timeout,
                           env={**_env(), "PYTHONPATH": str(tree)})
    except subprocess.TimeoutExpired:
        return "timeout"
    return "survived" if p.returncode == 0 else "killed"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    if SHARED.is_dir():
        env["BRIEFBOT_REQUIRE_SHARED"] = "1"  # a test that cannot find the corpus fails rather than skips
    return env


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--module", action="append", help="a key of MODULES (default: all)")
    ap.add_argument("--sample", type=int, default=40, help="mutants a module (0: all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    a = ap.parse_args()
    chosen = a.module or list(MODULES)
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        tree = Path(tmp) / "repo"
        shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.db", ".mypy_cache",
                                                                  ".ruff_cache", ".pytest_cache"))
        # the tests read the shared corpus beside the repository: without it the copy's tests skip, not fail,
        # and every mutant only they would catch survives
        if SHARED.is_dir():
            (tree.parent / "shared").symlink_to(SHARED, target_is_directory=True)
        summary = []
        for module in chosen:
            tests, functions = MODULES[module]
            tests = [t for t in tests if (tree / t.split("::")[0]).exists()]  # the copy's, made at the start
            every = mutants(module, functions)
            pick = every if a.sample <= 0 or a.sample >= len(every) else \
                sorted(random.Random(f"{a.seed}:{module}").sample(every, a.sample), key=lambda m: m.start)
            if a.list:
                for m in pick:
                    print(f"{module}:{m.line}:{m.col}: {m.what}")
                continue
            original = (ROOT / module).read_text(encoding="utf-8")
            t0 = time.perf_counter()
            base = run_tests(tree, tests, timeout=1800)
            took = time.perf_counter() - t0
            if base != "survived":
                print(f"{module}: its tests fail without any mutant ({base}); skipped")
                continue
            killed = survived = excluded = 0
            for m in pick:
                why = EQUIVALENT.get((module, m.line, m.col, m.what))
                if why:
                    excluded += 1
                    continue
                (tree / module).write_text(apply(original, m), encoding="utf-8")
                try:
                    res = run_tests(tree, tests, timeout=max(60.0, 3 * took))
                finally:
                    (tree / module).write_text(original, encoding="utf-8")
                if res == "survived":
                    survived += 1
                    print(f"  survived {module}:{m.line}:{m.col}: {m.what}", flush=True)
                else:
                    killed += 1
            n = killed + survived
            score = killed / n if n else 1.0
            summary.append((module, len(every), n, killed, excluded, score))
            print(f"{module}: {killed}/{n} killed ({score:.0%}); {len(every)} possible mutants, {excluded} equivalent "
                  f"excluded; tests {took:.0f} s", flush=True)
        if summary:
            print("\nmodule                         mutants  killed  score")
            for module, _, n, killed, _, score in summary:
                print(f"  {module:<28} {n:>7} {killed:>7}  {score:>5.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
