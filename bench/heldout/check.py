"""Sanity-check the held-out cases against the corpus (standard library only).

For every qa question and every chat turn: each listed source exists, and each must_include
group has at least one phrase found (normalised like the referee: NFKC, curly quotes, dashes,
white space, case) in at least one listed source. Absent questions must list nothing, and the
key terms below must occur nowhere in the corpus.

    python bench/heldout/check.py [--corpus ../shared/corpus] [--where]
    python bench/heldout/check.py --qa bench/heldout/qa_heldout3.jsonl --chat bench/heldout/chat_heldout3.jsonl

--qa / --chat choose the files (default: qa_heldout.jsonl and chat_heldout.jsonl); ids must run
PREFIX-01, PREFIX-02, ... with the prefix of the file's first id, and the style counts are checked
when QA_STYLES knows that prefix.

--where also lists, for each phrase, other corpus files containing it (to spot missing sources).
"""
import argparse
import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PUNCT = {"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "\u2011": "-", "\u2010": "-",
         "\u2013": "-", "\u2014": "-", "…": "...", "\u00a0": " ", "\u202f": " "}
# Terms that would answer (or point at) each absent question; none may appear in the corpus.
ABSENT_TERMS = {
    "ho-41": ["zelensk"],
    "ho-42": ["ishiba"],
    "ho-43": ["iphone"],
    "ho-44": ["eurovision 2012", "loreen"],
    "ho-45": ["tiktok", "bytedance"],
    "h3-37": ["ju ae"],
    "h3-38": ["prabowo", "subianto"],
    "h3-39": ["jae-myung", "lee jae"],
    "h3-40": ["elon musk", "tesla"],
    "h3-41": ["covid", "coronavirus", "lockdown"],
    "h3-42": ["bitcoin"],
    "h4-37": ["pezeshkian"],
    "h4-38": ["power of siberia"],
    "h4-39": ["youtube"],
    "h4-40": ["merkel"],
    "h4-41": ["antony and the johnsons", "i am a bird now"],
    "h4-42": ["lance armstrong"],
    "h5-37": ["truth social"],
    "h5-38": ["lukashenko"],
    "h5-39": ["myspace", "intermix"],
    "h5-40": ["nintendo wii", "nintendo's wii", "wii console"],
    "h5-41": ["flintoff"],
    "h5-42": ["live 8", "live8"],
    "h6-31": ["hot mic", "hot-mic", "organ transplant", "live to 150", "immortal"],
    "h6-32": ["lai ching", "ching-te"],
    "h6-33": ["refco"],
    "h6-34": ["materazzi"],
    "h6-35": ["brokeback"],
    "h7-31": ["df-5c", "df-61", "dongfeng"],
    "h7-32": ["northern rock"],
    "h7-33": ["cash for honours", "cash-for-honours", "cash for peerages", "lord levy"],
    "h7-34": ["phelps"],
    "h7-35": ["xbox 360"],
    "h8-31": ["min aung hlaing", "myanmar"],
    "h8-32": ["mark rutte"],
    "h8-33": ["google earth"],
    "h8-34": ["buncefield"],
    "h8-35": ["grand national", "hedgehunter"],
    "h9-31": ["kallas"],
    "h9-32": ["icesave", "landsbanki"],
    "h9-33": ["arctic monkeys", "whatever people say"],
    "h9-34": ["clegg"],
    "h9-35": ["facebook", "zuckerberg"],
    "h10-31": ["anwar"],
    "h10-32": ["shetty", "jade goody", "goody"],
    "h10-33": ["dyson"],
    "h10-34": ["wikipedia", "jimmy wales"],
    "h10-35": ["la galaxy", "los angeles galaxy"],
}
_STYLES = ("a_paraphrase", "b_why_how", "c_summary", "d_reverse_quote", "e_cross_article", "f_bbc", "g_absent",
           "h_casual")
QA_STYLES = {
    "ho": {"a_paraphrase": 7, "b_why_how": 7, "c_summary": 5, "d_reverse_quote": 6,
           "e_cross_article": 5, "f_bbc": 10, "g_absent": 5, "h_casual": 5},
    **{name: dict.fromkeys(_STYLES, n) for name, n in (("h3", 6), ("h4", 6), ("h5", 6), ("h6", 5), ("h7", 5), ("h8", 5), ("h9", 5), ("h10", 5))},
}
CHAT_STYLES = {"pronoun", "ellipsis", "which_source", "more_detail", "switch_topic"}
KINDS = {"fact", "quote", "summary", "multi", "absent"}


def norm(s):
    s = unicodedata.normalize("NFKC", s or "")
    for a, b in PUNCT.items():
        s = s.replace(a, b)
    return re.sub(r"\s+", " ", s).strip().lower()


def read(path):
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def load_corpus(root):
    docs = {}
    for p in sorted((root / "seeds").glob("*.txt")):
        docs[p.name] = norm(read(p))
    for p in sorted((root / "bbc").glob("*/*.txt")):
        docs[f"{p.parent.name}/{p.name}"] = norm(read(p))
    return docs


def check_case(label, case, docs, where, errors):
    kind, must, sources = case.get("kind"), case.get("must_include"), case.get("sources")
    if kind not in KINDS:
        errors.append(f"{label}: bad kind {kind!r}")
    if kind == "absent":
        if must or sources:
            errors.append(f"{label}: absent case lists must_include or sources")
        return
    if not must or not sources:
        errors.append(f"{label}: no must_include or no sources")
    for s in sources:
        if s not in docs:
            errors.append(f"{label}: source {s} not in corpus")
    texts = [docs[s] for s in sources if s in docs]
    for group in must:
        hits = [p for p in group if any(norm(p) in t for t in texts)]
        if not hits:
            errors.append(f"{label}: no phrase of {group} in {sources}")
        if where:
            for p in group:
                others = [n for n, t in docs.items() if n not in sources and norm(p) in t]
                if others:
                    more = f" (+{len(others) - 8})" if len(others) > 8 else ""
                    print(f"  {label} {p!r} also in: {' '.join(others[:8])}{more}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(REPO.parent / "shared" / "corpus"))
    ap.add_argument("--where", action="store_true")
    ap.add_argument("--qa", default=str(HERE / "qa_heldout.jsonl"))
    ap.add_argument("--chat", default=str(HERE / "chat_heldout.jsonl"))
    args = ap.parse_args()
    docs = load_corpus(Path(args.corpus))
    errors = []

    qa = [json.loads(x) for x in Path(args.qa).read_text(encoding="utf-8").splitlines() if x.strip()]
    prefix = qa[0]["id"].rsplit("-", 1)[0] if qa else "ho"
    for i, case in enumerate(qa, 1):
        if case["id"] != f"{prefix}-{i:02d}":
            errors.append(f"{case['id']}: expected id {prefix}-{i:02d}")
        check_case(case["id"], case, docs, args.where, errors)
        for term in ABSENT_TERMS.get(case["id"], []):
            found = [n for n, t in docs.items() if norm(term) in t]
            if found:
                errors.append(f"{case['id']}: absent term {term!r} found in {found[:5]}")
        if case["kind"] == "absent" and case["id"] not in ABSENT_TERMS:
            errors.append(f"{case['id']}: absent case without ABSENT_TERMS entry")
    styles = Counter(c["style"] for c in qa)
    if prefix in QA_STYLES and dict(styles) != QA_STYLES[prefix]:
        errors.append(f"qa style counts {dict(styles)} != {QA_STYLES[prefix]}")

    chats = [json.loads(x) for x in Path(args.chat).read_text(encoding="utf-8").splitlines() if x.strip()]
    cprefix = chats[0]["id"].rsplit("-", 1)[0] if chats else "hc"
    for i, conv in enumerate(chats, 1):
        if conv["id"] != f"{cprefix}-{i:02d}":
            errors.append(f"{conv['id']}: expected id {cprefix}-{i:02d}")
        if conv.get("style") not in CHAT_STYLES:
            errors.append(f"{conv['id']}: bad style {conv.get('style')!r}")
        if not 2 <= len(conv["turns"]) <= 4:
            errors.append(f"{conv['id']}: {len(conv['turns'])} turns")
        for j, turn in enumerate(conv["turns"], 1):
            check_case(f"{conv['id']}.{j}", turn, docs, args.where, errors)

    print(f"qa: {len(qa)} cases {dict(sorted(styles.items()))}")
    print(f"chat: {len(chats)} conversations, {sum(len(c['turns']) for c in chats)} turns "
          f"{dict(sorted(Counter(c['style'] for c in chats).items()))}")
    for e in errors:
        print("ERROR", e)
    print("OK" if not errors else f"{len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
