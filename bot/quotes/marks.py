"""Pairing quotation marks within paragraphs, and blanking quotations out of the text.

Straight, curly, low-9 („…“), guillemet and corner (「…」) marks, and single marks; nesting, run-on and
unbalanced marks are handled in one linear pass. Used for articles (extraction) and for answers (verification).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.quotes.words import TITLE_ABBREVS, _words

MARK = re.compile(r"[“”„«»「」『』\"]")
PARA = re.compile(r"[^\n]+")
# A sentence end: terminal punctuation, closing marks, then white space.
BOUND = re.compile(r"[.!?…][\x01)\]”’\"']*\s+|\n\s*")  # a line break always ends a sentence
WORD_BEFORE = re.compile(r"(\w+)$")
RAW_BOUND = re.compile(r"[.!?](?=\s+[A-Z])")
ALNUM = re.compile(r"\w")
# The full stop of an abbreviated title or an initial before a name ("Sen. Graham", "John D. Podesta",
# "G.K. Butterfield"): blanked in the attribution text, so names read as one run and no sentence ends there.
NAME_STOP = re.compile(
    rf"(?<!\w)(?:{'|'.join(sorted((w.capitalize() for w in TITLE_ABBREVS), key=len, reverse=True))}|[A-Z])\."
    r"(?=[^\S\n]+[A-Z])"
)
# A short aside in brackets after a capitalised word ("Sen. Ann Lee (D-Ohio) said", "Scott (Vt.)"): blanked in
# the attribution text, so the name and its verb meet.
NAME_ASIDE = re.compile(r"(?<=\w)[^\S\n]*\([^()\n\x01“”\"]{1,30}\)")
WORD_END = re.compile(r"\w+$")

OPENERS = "“„«「『"
CLOSERS = "”»」』"
RUN_ON_OPENERS = '“"„«「『'  # a paragraph opening with one of these continues a quotation
OPEN_CONTEXT = "([{—–-/:\u2018"
CLOSE_CONTEXT = ".,;:!?)]}—–-…'’"
MAX_UNCLOSED = 1500  # an unclosed quote longer than this is a stray mark, not a quotation
MAX_QUOTE = 20000
ABBREV = _words(
    "mr mrs ms dr st jr sr prof gen gov sen rep lt col capt sgt no vs etc inc ltd co corp dept est fig rev mt ft"
)


@dataclass
class QSpan:
    """A paired quotation and, once attributed, who said it."""

    o: int  # index of the opening mark
    c: int  # index of the closing mark; for an unclosed quote, the end of its text
    closed: bool
    start: int
    end: int
    ps: int  # paragraph bounds
    pe: int
    para: int
    speaker: str | None = None
    sp_start: int | None = None
    sp_end: int | None = None
    role: str | None = None
    description: str | None = None
    cue: str | None = None
    person: bool = False
    sent_start: int = 0
    sent_end: int = 0
    kind: str = "direct"
    headline: bool = False  # single-quoted in a headline, or a scare quote: nobody's words here


def pair_marks(text: str, ps: int, pe: int, para: int, out: list[QSpan], runs_on: bool) -> None:
    """Pair the quote marks of one paragraph, appending each quotation to out."""
    marks = [(m.start(), m.group()) for m in MARK.finditer(text, ps, pe)]
    if not marks:
        return
    # look-ahead tables, built in one backward pass, so nesting decisions stay linear
    next_curly: list[str] = [""] * len(marks)
    later_straight = [False] * len(marks)
    nc, ls = "", False
    for k in range(len(marks) - 1, -1, -1):
        next_curly[k], later_straight[k] = nc, ls
        if marks[k][1] == '"':
            ls = True
        else:
            nc = marks[k][1]
    open_at, open_ch = -1, ""
    for k, (i, ch) in enumerate(marks):
        if ch == '"':
            ends_speech = i > ps and text[i - 1] in ",.!?" and (i + 1 >= pe or text[i + 1].isspace())
            if open_at >= 0 and open_ch != '"' and next_curly[k] in CLOSERS and not ends_speech:
                continue  # a straight mark nested inside a curly quotation (unless it plainly closes it)
            prev = text[i - 1] if i > ps else " "
            nxt = text[i + 1] if i + 1 < pe else " "
            op = prev.isspace() or prev in OPEN_CONTEXT
            cl = nxt.isspace() or nxt in CLOSE_CONTEXT
            if op and not cl:
                kind = "o"
            elif cl and not op:
                kind = "c"
            else:
                kind = "c" if open_at >= 0 else "o"
        else:
            # “ closes a German-style „…“ quotation; otherwise curly, guillemet and corner marks say which they are
            kind = "c" if ch == "“" and open_at >= 0 and open_ch == "„" else "o" if ch in OPENERS else "c"
            if open_at >= 0 and open_ch == '"' and later_straight[k]:
                continue  # curly marks nested inside a straight quotation
        if kind == "o":
            if open_at >= 0:
                # a new opening before a close: the earlier quotation ran on unclosed (as in
                # multi-paragraph quotes that were joined into one line)
                emit_quote(text, open_at, i, False, ps, pe, para, out)
            open_at, open_ch = i, ch
        elif open_at >= 0:
            emit_quote(text, open_at, i, True, ps, pe, para, out)
            open_at = -1
    if open_at >= 0:
        end = pe if runs_on else first_sentence_end(text, open_at + 1, pe)
        emit_quote(text, open_at, end, False, ps, pe, para, out)


SINGLE = re.compile(r"['‘’]")
SINGLE_MAX = 400  # a single-quoted stretch longer than this is apostrophes, not a quotation


def pair_single_marks(text: str, ps: int, pe: int, para: int, out: list[QSpan], first: int) -> None:
    """Quotations in single marks ('…', ‘…’: British style, headlines), outside the double-quoted ones found
    from out[first:]. An apostrophe inside a word (don't, Britain's) is never a mark: an opening mark follows
    a space or the paragraph's start and precedes a letter; a closing one follows a non-space and precedes a
    space, punctuation or the paragraph's end."""
    taken = [(q.o, q.c) for q in out[first:]]
    headline = para == 0 and pe - ps < 160 and not re.search(r"[.!?]['’\"”]?\s*$", text[ps:pe])
    before = len(out)
    open_at = -1
    for m in SINGLE.finditer(text, ps, pe):
        i = m.start()
        if any(a <= i <= b for a, b in taken):
            continue  # nested inside a double-quoted quotation
        prev = text[i - 1] if i > ps else " "
        nxt = text[i + 1] if i + 1 < pe else " "
        opens = (prev.isspace() or prev in OPEN_CONTEXT or prev in "“\"") and nxt.isalnum() and m.group() != "’"
        closes = not prev.isspace() and (nxt.isspace() or (nxt in CLOSE_CONTEXT and nxt not in "'’")) \
            and m.group() != "‘"
        if open_at >= 0 and closes and i - open_at <= SINGLE_MAX:
            emit_quote(text, open_at, i, True, ps, pe, para, out)
            open_at = -1
        elif opens:
            open_at = i  # a later opening before any close: the earlier mark was an apostrophe ('90s)
    for q in out[before:]:
        # a headline's quoted words, or a word or two in single marks ('tranquillity', 'wardrobe malfunction'),
        # are scare quotes far more often than someone's words: found, but given to no one
        q.headline = headline or len(text[q.start:q.end].split()) < 3


def find_quotations(text: str) -> tuple[list[tuple[int, int]], list[QSpan]]:
    """The paragraphs of a text and every quotation in it (double, low-9, guillemet, corner and single marks),
    sorted by opening mark within each paragraph."""
    paras = [(m.start(), m.end()) for m in PARA.finditer(text) if not m.group().isspace()]
    qs: list[QSpan] = []
    for n, (ps, pe) in enumerate(paras):
        # a quotation left open at a paragraph's end runs on only if the next paragraph opens one
        runs_on = n + 1 < len(paras) and text[paras[n + 1][0] : paras[n + 1][0] + 1] in RUN_ON_OPENERS
        first = len(qs)
        pair_marks(text, ps, pe, n, qs, runs_on)
        pair_single_marks(text, ps, pe, n, qs, first)
        qs[first:] = sorted(qs[first:], key=lambda q: q.o)
    return paras, qs


def first_sentence_end(text: str, a: int, b: int) -> int:
    """End of the first sentence in text[a:b], to stop a never-closed quotation swallowing narrative."""
    for m in RAW_BOUND.finditer(text, a, min(b, a + MAX_UNCLOSED)):
        w = WORD_BEFORE.search(text, max(a, m.start() - 20), m.start())
        if w and (w.group(1).casefold() in ABBREV or (len(w.group(1)) == 1 and w.group(1).isupper())):
            continue
        return m.start() + 1
    return b


def emit_quote(text: str, o: int, c: int, closed: bool, ps: int, pe: int, para: int, out: list[QSpan]) -> None:
    """Append the quotation between marks o and c, trimmed, unless it is empty or implausible."""
    s, e = o + 1, c
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e <= s or e - s > MAX_QUOTE or (not closed and e - s > MAX_UNCLOSED):
        return
    if not ALNUM.search(text, s, e):
        return
    out.append(QSpan(o, c if closed else e, closed, s, e, ps, pe, para))


def mask_quotes(text: str, qs: list[QSpan]) -> str:
    """Text with every quotation blanked to \\x01 (same length), keeping its final . ! ? or comma

    Attribution rules then never read words inside a quotation, and sentence ends still show; the full
    stops of titles and initials before names, and short bracketed asides after them, become spaces.
    """
    parts: list[str] = []
    pos = 0
    for q in qs:
        a = q.o
        b = q.c + 1 if q.closed else q.end
        if a < pos:
            continue
        parts.append(text[pos:a])
        last = text[q.end - 1]
        # the quotation's own final punctuation stays visible, at the end of the blank
        parts.append("\x01" * (b - a - 1) + (last if last in ".!?," else "\x01"))
        pos = b
    parts.append(text[pos:])
    out = NAME_STOP.sub(_stop_to_space, "".join(parts))
    return NAME_ASIDE.sub(lambda m: _blank_after_name(out, m), out)


def _stop_to_space(m: re.Match[str]) -> str:
    return m.group()[:-1] + " "


def _blank_after_name(s: str, m: re.Match[str]) -> str:
    w = WORD_END.search(s, max(0, m.start() - 40), m.start())
    return " " * len(m.group()) if w and w.group()[:1].isupper() else m.group()
