"""Attributing quotations: cue verbs around each quotation, pronouns, continuing speakers.

Every rule reads a bounded window (a sentence, at most a few hundred characters) of the blanked text.
"""

from __future__ import annotations

import bisect
import re

from bot.quotes.marks import ABBREV, BOUND, WORD_BEFORE, QSpan
from bot.quotes.names import (
    TOKEN,
    Lexicon,
    Person,
    bare,
    is_cap,
    is_possessive,
    role_text,
    speaker_matches,
    split_title,
    valid_speaker,
)
from bot.quotes.np import (
    DETS,
    Tok,
    cap_run_end,
    cap_runs,
    clause_start,
    desc_ok,
    describes,
    is_word,
    joiner,
    nearest_cap,
    np_back,
    np_forward,
    speechlike,
    subject,
)
from bot.quotes.words import (
    AS_VERBS,
    AUX,
    CUE_VERBS,
    EXPRESS_VERBS,
    GENERIC,
    HONORIFICS,
    NEWSPAPER_WORDS,
    NON_PERSON,
    NOT_A_SPEAKER,
    ORG_HEADS,
    PERSON_PRONOUNS,
    SAY_VERBS,
    STOP_CAPS,
    TITLES,
    _words,
)

# Subject pronouns only: "her rival", "scolded him" after a name say nothing of that name's gender.
PRONOUN = re.compile(r"\b(he|she)\b", re.IGNORECASE)
ANY_GENDER = "*"  # a description ("the American") may be either
WINDOW = 300  # characters either side of a quote that attribution may look at
DASHES = ("—", "–", "―", "-")
SIGN_OFF = re.compile(r"[^\S\n]*[—–―-][^\S\n]*(?=[A-Z])")
# Reporting verbs that are as often plural nouns ("late-night tweets", "his claims").
NOUN_LIKE = _words("tweets posts reports claims comments remarks notes calls promises pledges demands vows texts jokes "
                   # "Kim's mental state is …", "state laws": as often a noun as "said" is a verb
                   "state")
LABEL = re.compile(r"([A-Z][A-Z’'\-]+(?: [A-Z][A-Z’'\-]+){0,2}):\s")
ANSWER_VERBS = _words("replied replies responded responds answered answers retorted")
PASSIVE_AUX = _words("was were been is are being be")


_LINKS = frozenset(["for", "of", "at", "from", "with", "in", "to", "on", "by", "and", "or", "as", "since", "than",
                    "like", "against", "over", "after", "before", "under", "into", "about", "between", "beat", "beating"])


def _in_number(toks: list[Tok], i: int) -> bool:
    """Whether token i is the slash or point inside a number written with one ("9/11", "24/7")."""
    return 0 < i < len(toks) - 1 and toks[i][0] in ("/", ".") and toks[i - 1][0].isdigit() and toks[i + 1][0].isdigit()


class Attributor:
    """Per-article state: texts, quotations, paragraph spans and the lazily built name lexicon."""

    def __init__(self, text: str, masked: str, qs: list[QSpan], paras: list[tuple[int, int]]) -> None:
        self.text = text
        self.masked = masked
        self.qs = qs
        self.paras = paras
        self.q_starts = [q.o for q in qs]
        self._lex: Lexicon | None = None
        self._bounds: dict[int, bool] = {}
        self._has_person: bool | None = None

    @property
    def lex(self) -> Lexicon:
        """The article's name lexicon, built on first use."""
        if self._lex is None:
            self._lex = Lexicon(self.masked, self.text)
        return self._lex

    @property
    def has_person(self) -> bool:
        """Whether the article names anyone who looks like a person (decided once)."""
        if self._has_person is None:
            self._has_person = any(p.person for p in self.lex.names.values())
        return self._has_person

    # -- sentences

    def _valid_bound(self, m: re.Match[str]) -> bool:
        p = m.start()
        # windows around neighbouring quotations overlap: judge each candidate boundary once
        known = self._bounds.get(p)
        if known is not None:
            return known
        ok = self._judge_bound(m)
        self._bounds[p] = ok
        return ok

    def _judge_bound(self, m: re.Match[str]) -> bool:
        p = m.start()
        if "\n" in m.group():
            return True
        nxt = self.masked[m.end() : m.end() + 1]
        if nxt and not (nxt.isupper() or nxt.isdigit() or nxt in "\x01([“\"‘'"):
            return False
        if self.masked[p] == ".":
            w = WORD_BEFORE.search(self.masked, max(0, p - 20), p)
            if w and (w.group(1).casefold() in ABBREV or (len(w.group(1)) == 1 and w.group(1).isupper())):
                return False
        return True

    def sent_start(self, p: int, lo: int) -> int:
        """Start of the sentence holding position p, looking back no further than lo."""
        s = lo
        for m in BOUND.finditer(self.masked, lo, p):
            if self._valid_bound(m):
                s = m.end()
        return s

    def sent_end(self, p: int, hi: int) -> int:
        """End of the sentence running on from position p, looking no further than hi."""
        for m in BOUND.finditer(self.masked, p, hi):
            if self._valid_bound(m):
                return m.start() + 1
        return hi

    def toks(self, a: int, b: int) -> list[Tok]:
        """Word and punctuation tokens of the blanked text between a and b."""
        return [(m.group(), m.start(), m.end()) for m in TOKEN.finditer(self.masked, a, b)]

    # -- main rule chain

    def attribute(self, i: int) -> None:
        """Find the speaker, cue and kind of quotation i (earlier ones are already done)."""
        q = self.qs[i]
        lo = max(q.ps, q.o - WINDOW)
        hi = min(q.pe, q.c + 1 + WINDOW)
        q.sent_start = ss = self.sent_start(q.o, lo)
        after_from = q.c + 1 if q.closed else q.end
        # search for the sentence end from the quotation's own final punctuation (kept in the mask)
        bound_from = q.c if q.closed else max(q.start, q.end - 1)
        q.sent_end = se = self.sent_end(bound_from, hi) if bound_from < hi else hi
        before = self.toks(ss, q.o)
        after = self.toks(after_from, se) if after_from < se else []
        if not after and q.closed and self.masked[q.c] in "?!" and after_from < hi:
            # “Why?” Carver asked. — the question mark ends the quotation, not the sentence
            after = self.toks(after_from, self.sent_end(after_from, hi))
        at_start = not any(t[0][0] != "\x01" and (t[0][0].isalnum()) for t in before)
        res = self.signed(q, after_from)
        if res is None and at_start:
            res = self.transcript_label(q)
        if res is None and not at_start:
            res = self.cue_before(before, q)
        if res is None or res.speaker is None:
            alt = self.cue_after(after, q)
            if alt is not None:
                res = alt
        if (res is None or res.speaker is None) and not at_start:
            alt = self.cue_tail(after, q)
            if alt is not None:
                res = alt
        if res is None and at_start and (speechlike(self.text, q) or self.follows_quote(i)):
            res = self.continuation(i)
        if res is not None and res.speaker and valid_speaker(res.speaker):
            q.speaker, q.sp_start, q.sp_end = res.speaker, res.m_start, res.m_end
            q.role, q.description, q.cue, q.person = res.role, res.description, res.cue, res.person
            colon = bool(before) and before[-1][0] in (":", ",")
            if at_start or colon:
                q.kind = "direct"
            elif re.search(r"[.!?]\s+\S", self.text[q.start : min(q.end, q.start + 2000)]):
                q.kind = "mixed"  # starts mid-sentence, runs on into whole sentences
            else:
                q.kind = "partial"
        else:
            q.speaker = None
            q.kind = "unattributed"

    # -- cue before the quotation, in the same sentence

    def cue_before(self, toks: list[Tok], q: QSpan) -> Attribution | None:
        """The nearest cue verb before the quotation in its sentence, and its subject."""
        n = len(toks)
        for idx in range(n - 1, max(-1, n - 45), -1):
            w = toks[idx][0]
            lw = w.casefold()
            if lw == ";":
                return None
            if lw == "to" and idx > 0 and toks[idx - 1][0].casefold() == "according":
                np = np_forward(toks, idx + 1)
                r = self.speaker_from(toks, np, q.o) if np else None
                return (r or Attribution()).with_cue("according to")
            if lw in ("but", "while", "whereas") and idx + 1 < n and self.new_subject(toks[idx + 1][0]):
                return None  # "Ministers say … but critics fear a “super state”": the quote is the new clause's
            if lw not in CUE_VERBS:
                continue
            if idx > 0 and toks[idx - 1][0].casefold() in DETS | {"to"}:
                continue  # a noun ("the report", "a call") or an infinitive ("how to tell"), not a reporting verb
            if lw in NOUN_LIKE and idx > 0 and not self.verb_subject(toks[idx - 1][0]):
                continue  # "a flurry of late-night tweets": a noun
            as_between = any(t[0].casefold() == "as" for t in toks[idx + 1 :])
            cue = f"{w} … as" if lw in AS_VERBS and as_between else w
            if lw in EXPRESS_VERBS and idx + 1 < n:
                cue = f"{w} {toks[idx + 1][0]}"
            if idx + 1 < n and toks[idx + 1][0].casefold() == "by":
                np = np_forward(toks, idx + 2)
                r = self.speaker_from(toks, np, q.o) if np else None
                return (r or Attribution()).with_cue(cue)
            if idx > 0 and toks[idx - 1][0].casefold() in PASSIVE_AUX:
                return Attribution()  # "was described as": no agent named
            if lw.endswith("ing") and idx > 0:
                np = subject(toks, clause_start(toks, idx), idx)
                r = self.speaker_from(toks, np, q.o) if np else None
                if r is None:
                    continue  # "“…,” Tester said, referring to the figure, “…”": the sayer is further back
                return (r or Attribution()).with_cue(cue)
            if idx == 0 or (idx == 1 and toks[0][0].casefold() in ("and", "but")):
                np = np_forward(toks, idx + 1)  # "Said Ellis: …"
                r = self.speaker_from(toks, np, q.o) if np else None
                return (r or Attribution()).with_cue(cue)
            r = self.subject_before(toks, idx, q.o)
            if r is None and idx >= 3 and toks[idx - 1][0].casefold() == "who" and toks[idx - 2][0] == ",":
                np = np_back(toks, idx - 3)  # "… was denied by Shepherd, who accused the striker of “cheating”"
                r = self.speaker_from(toks, np, q.o) if np else None
            elif r is None and idx >= 2 and toks[idx - 1][0].casefold() in ("who", "that") \
                    and bare(toks[idx - 2][0]) in GENERIC:
                continue  # "…, saying anybody who complains about a microphone “…”": a relative clause's verb
            k = idx - 1
            while k > 0 and toks[k][0].casefold() in AUX:
                k -= 1
            if r is None and k > 0 and toks[k][0].casefold() in ("and", "but"):
                np = subject(toks, 0, k)  # "Roberts said she favours it but said “…”": the sentence's subject
                r = self.speaker_from(toks, np, q.o) if np else None
            if r is None and lw.endswith("ing"):
                np = nearest_cap(toks, idx)
                r = self.speaker_from(toks, np, q.o) if np else None
            return (r or Attribution()).with_cue(cue)
        return None

    @staticmethod
    def new_subject(word: str) -> bool:
        """Whether a clause opening with this word has a subject of its own ("critics", "others")."""
        return bare(word) in GENERIC - DETS - PERSON_PRONOUNS

    @staticmethod
    def verb_subject(prev: str) -> bool:
        """Whether the word before "tweets", "reports", "claims" … makes it a verb: a name, pronoun or body."""
        b = bare(prev)
        return is_cap(prev) or b in PERSON_PRONOUNS or b in ("it", "they") or b in ORG_HEADS or b in AUX

    def subject_before(self, toks: list[Tok], idx: int, pos: int) -> Attribution | None:
        """The speaker named just before the verb at idx, past adverbs and appositives."""
        j = idx - 1
        while j >= 0 and toks[j][0].casefold() in AUX:
            j -= 1
        desc: str | None = None
        if j >= 0 and toks[j][0] == ",":
            r = self.appositive_subject(toks, j, pos)
            if r is not None:
                return r
            k = j - 1
            while k >= 0 and j - k < 20 and toks[k][0] != "," and toks[k][0][0] != "\x01":
                k -= 1
            seg = (k + 1, j - 1)
            if seg[0] <= seg[1]:
                np = np_back(toks, seg[1])
                if np and np[0] == seg[0] and is_cap(toks[seg[0]][0]):
                    r = self.speaker_from(toks, np, pos)
                    if r is not None:
                        return r  # "The Shadow Secretary ..., Theresa May, said"
                desc = self.text[toks[seg[0]][1] : toks[seg[1]][2]]
            if k < 0 or toks[k][0] != ",":
                return None
            j = k - 1
            while j >= 0 and toks[j][0].casefold() in AUX:
                j -= 1
        np = np_back(toks, j) if j >= 0 else None
        if np is not None and np[0] >= 2:
            k = np[0] - 1
            if toks[k][0].casefold() == "the":
                k -= 1
            if k >= 1 and toks[k][0].casefold() in ("from", "of", "at", "with"):
                outer = np_back(toks, k - 1)
                r = self.speaker_from(toks, outer, pos) if outer else None
                if r is not None and r.person:
                    return r  # "David Graham from the FDA's Office of Drug Safety told"
        r = self.speaker_from(toks, np, pos) if np else None
        if r is not None and desc and not r.description and desc_ok(desc):
            r.description = desc
        return r

    def appositive_subject(self, toks: list[Tok], j: int, pos: int) -> Attribution | None:
        """ "Rita Vance, president of the union, which represents nurses, said": the sentence's subject,
        past the appositives between it and the comma at j."""
        np = subject(toks, 0, j)
        if np is None or np[1] + 2 >= j or toks[np[1] + 1][0] != ",":
            return None
        between = toks[np[1] + 2 : j]
        if len(between) > 40 or any(t[0] in (";", "and") or t[0][0] == "\x01" for t in between):
            return None
        r = self.speaker_from(toks, np, pos)
        if r is None or not (r.person or is_cap(toks[np[1]][0])):
            return None
        if not r.description:
            d = self.appositive(toks, np[1] + 1)
            r.description = d
        return r

    # -- cue right after the quotation: ", said X" / ", X said"

    def cue_after(self, toks: list[Tok], q: QSpan) -> Attribution | None:
        """A speaker right after the quotation: ", said X" or ", X said"."""
        i = 0
        while i < len(toks) and toks[i][0] in (",", *DASHES):
            i += 1
        if i >= len(toks):
            return None
        w = toks[i][0].casefold()
        if i > 0 and toks[i - 1][0] in DASHES and is_cap(toks[i][0]):
            r = self.sign_off(toks, i, q)
            if r is not None:
                return r
        if w == "according" and i + 1 < len(toks) and toks[i + 1][0].casefold() == "to":
            np = np_forward(toks, i + 2)
            r = self.speaker_from(toks, np, q.o) if np else None
            return r.with_cue("according to") if r else None
        if w in SAY_VERBS and not w.endswith("ing"):
            np = np_forward(toks, i + 1)
            r = self.speaker_from(toks, np, q.o) if np else None
            if r is None or np is None or not r.person:
                # "said Florida state archivist Jody Norman", "said former US state department official John
                # Smith": role words, then the name that ends the clause
                named = self.role_words_then_name(toks, i + 1, q)
                if named is not None:
                    return named.with_cue(toks[i][0])
            if r is None or np is None:
                return None
            r.with_cue(toks[i][0])
            j = np[1] + 1
            if not r.person and j + 1 < len(toks) and toks[j][0] == "," and is_cap(toks[j + 1][0]):
                # "said EEF chief economist, Steve Radley": the name follows the role
                end = cap_run_end(toks, j + 1)
                named = self.speaker_from(toks, (j + 1, end - 1), q.o)
                if named is not None and named.person and (end >= len(toks) or toks[end][0] in (",", ".")):
                    named.with_cue(toks[i][0])
                    named.description = self.text[toks[np[0]][1] : toks[np[1]][2]]
                    return named
            if not r.description:
                r.description = self.appositive(toks, np[1] + 1)
            return r
        np = np_forward(toks, i)
        if np is None:
            return self.role_then_name(toks, i, q)
        j = np[1] + 1
        desc = None
        if j + 1 < len(toks) and toks[j][0].casefold() in ("of", "from", "at") and is_cap(toks[np[1]][0]):
            # "Mr. Morgan of the Harbour Trust said": the affiliation is not the speaker
            a = j + 2 if toks[j + 1][0].casefold() == "the" else j + 1
            end = cap_run_end(toks, a)
            if end > a:
                desc = self.text[toks[j][1] : toks[end - 1][2]]
                j = end
        if j < len(toks) and toks[j][0] == ",":
            j += 1
            # up to three appositives: ", the attorney general of Ohio, one of the states suing, said"
            for _ in range(3):
                k = j
                while k < len(toks) and k - j < 20 and toks[k][0] != ",":
                    k += 1
                if k >= len(toks) or k == j:
                    return None
                desc = desc or self.text[toks[j][1] : toks[k - 1][2]]
                j = k + 1
                v = j
                while v < len(toks) and toks[v][0].casefold() in AUX:
                    v += 1
                if v < len(toks) and toks[v][0].casefold() in SAY_VERBS:
                    break
        while j < len(toks) and toks[j][0].casefold() in AUX:
            j += 1
        if j < len(toks) and toks[j][0].casefold() in SAY_VERBS and not toks[j][0].casefold().endswith("ing"):
            if self.masked[q.c] == "?" and toks[j][0].casefold() in ANSWER_VERBS:
                return None  # "“…?” Mr Milburn replied that …": the question was put to him, not asked by him
            r = self.speaker_from(toks, np, q.o)
            if r is None:
                return None
            r.with_cue(toks[j][0])
            if desc and not r.description and desc_ok(desc):
                r.description = desc
            return r
        return None

    def role_then_name(self, toks: list[Tok], i: int, q: QSpan) -> Attribution | None:
        """ "…,” retired Navy admiral Paul Brandt said": a few role words, then a name, then the verb."""
        for v in range(i + 1, min(len(toks), i + 9)):
            t = toks[v][0]
            if not is_word(t) and not _in_number(toks, v):
                return None
            if t.casefold() in SAY_VERBS and not t.casefold().endswith("ing"):
                e = v - 1
                while e > i and toks[e][0].casefold() in AUX:
                    e -= 1
                if not is_cap(toks[e][0]):
                    return None
                np = np_back(toks, e)
                r = self.speaker_from(toks, np, q.o) if np else None
                if r is None or not r.person or np is None:
                    return None
                if np[0] > i and not r.role:
                    r.role = self.text[toks[i][1] : toks[np[0] - 1][2]]
                return r.with_cue(t)
        return None

    def role_words_then_name(self, toks: list[Tok], k: int, q: QSpan) -> Attribution | None:
        """ "said Florida state archivist Jody Norman.": after the verb, a few words describing the speaker (at
        least one in lower case), then a full name that ends the clause; None when no person's name ends it."""
        for s in range(k + 1, min(len(toks), k + 9)):
            if not is_word(toks[s - 1][0]) and not _in_number(toks, s - 1):
                return None  # (a "9/11 widow" is described by a number)
            if not is_cap(toks[s][0]) or is_cap(toks[s - 1][0]):
                continue
            e = cap_run_end(toks, s)
            if e - s < 2 or (e < len(toks) and toks[e][0] not in (",", ".", ";")):
                continue
            if not any(not is_cap(t[0]) for t in toks[k:s]) or any(bare(t[0]) in _LINKS for t in toks[k:s]):
                return None  # "wrote Cameron Easley for Morning Consult": the name is his, the rest his employer
            r = self.speaker_from(toks, (s, e - 1), q.o)
            if r is None or not r.person:
                return None
            if not r.role:
                r.role = self.text[toks[k][1] : toks[s - 1][2]]
            return r
        return None

    def transcript_label(self, q: QSpan) -> Attribution | None:
        """ "“PENCE: Well, look …”": a transcript's speaker label opening the quotation."""
        m = LABEL.match(self.text, q.start, min(q.end, q.start + 40))
        if m is None or bare(m.group(1)) in NOT_A_SPEAKER or bare(m.group(1)) in TITLES:
            return None
        key = tuple(bare(w) for w in m.group(1).split())
        p = self.lex.expand(key, q.o)
        name = p.name if p is not None and p.person else m.group(1).title()
        return Attribution(name, m.start(1), m.end(1), None, None, "transcript", True)

    def signed(self, q: QSpan, after: int) -> Attribution | None:
        """The name a dash signs the quotation with, right after its closing mark."""
        m = SIGN_OFF.match(self.masked, after, q.pe)
        if m is None:
            return None
        toks = self.toks(m.start(), min(q.pe, m.end() + 200))
        return self.sign_off(toks, 1, q) if len(toks) > 1 else None

    def sign_off(self, toks: list[Tok], i: int, q: QSpan) -> Attribution | None:
        """ "“…” — Ana Ruiz, a nurse": a quotation signed with a dash and a name that ends the sentence."""
        end = cap_run_end(toks, i)
        if end < len(toks) and toks[end][0] not in (",", ".", ";"):
            return None
        if end < len(toks) and toks[end][0] == "," and any(t[0].casefold() in SAY_VERBS for t in toks[end:]):
            return None
        r = self.speaker_from(toks, (i, end - 1), q.o)
        if r is None or not r.person:
            return None
        r.cue = toks[i - 1][0]
        if end < len(toks) and not r.description:
            r.description = self.appositive(toks, end)
        return r

    def cue_tail(self, toks: list[Tok], q: QSpan) -> Attribution | None:
        """A partial quotation inside a sentence that ends ", X said." or ", said X."."""
        last = max((k for k, t in enumerate(toks) if t[0] == ","), default=-1)
        if last < 0:
            return None
        rest = toks[last:]
        r = self.cue_after(rest, q)
        if r is None or r.cue is None or r.cue.casefold() in ("reported", "according to", "reports"):
            return None
        return r

    def appositive(self, toks: list[Tok], j: int) -> str | None:
        """The description after a name (", a Trump trade advisor"), if any."""
        if j + 1 < len(toks) and toks[j][0] == "," and toks[j + 1][0][:1].islower():
            k = j + 1
            while k < len(toks) and toks[k][0] not in (",", ";", "\x01") and toks[k][0][0] != "\x01":
                k += 1
            end = toks[k - 1][2]
            d = self.text[toks[j + 1][1] : end].rstrip(" .")
            if desc_ok(d):
                return d
        return None

    # -- continuing the previous speaker

    def follows_quote(self, i: int) -> bool:
        """A short sentence quoted right after another quotation of the paragraph (“I doubt it.”)."""
        q = self.qs[i]
        return (
            i > 0
            and self.qs[i - 1].para == q.para
            and self.text[q.start : q.start + 1].isupper()
            and self.text[q.end - 1 : q.end] in (".", "!", "?")
        )

    def continuation(self, i: int) -> Attribution | None:
        """The speaker a cue-less quotation inherits from the sentence or quotation before it."""
        q = self.qs[i]
        r = self.prev_sentence(q)
        if r is not None:
            return r
        prev: QSpan | None = None
        for k in range(i - 1, -1, -1):
            p = self.qs[k]
            if p.para == q.para:
                if p.speaker:
                    prev = p
                    break
                if p.sent_start != q.sent_start:
                    return None  # an unattributed quotation in between breaks the chain
                continue
            # the first quotation of a paragraph may continue the last one of the paragraph before
            if (
                p.para == q.para - 1
                and p.speaker
                and not self.masked[q.ps : q.o].strip()
                and self.paras[p.para][1] - p.sent_end < 250
            ):
                prev = p
            break
        if prev is None or q.o - prev.end > 600:
            return None
        # a different person named in between (outside the attribution sentence) ends the chain
        gap_from = prev.sent_end if prev.para == q.para else q.ps
        gap = self.toks(gap_from, q.o)
        for a, b in cap_runs(gap):
            words = [t[0] for t in gap[a : b + 1] if bare(t[0]) not in STOP_CAPS]
            key = tuple(bare(t) for t in split_title(words)[1]) if words else ()
            if key and self.lex.person_like(key):
                p2 = self.lex.expand(key, gap[a][1])
                name = p2.name if p2 else " ".join(key)
                if prev.speaker and not speaker_matches(name, prev.speaker):
                    return None
        return Attribution(prev.speaker, prev.sp_start, prev.sp_end, prev.role, prev.description, prev.cue, prev.person)

    def prev_sentence(self, q: QSpan) -> Attribution | None:
        """ "Ian Harris said the machine would sell. / "They want more."": the previous sentence's sayer."""
        if self.masked[q.ps : q.o].strip():
            ps = q.ps
        elif q.para > 0:
            ps = self.paras[q.para - 1][0]
        else:
            return None
        end = q.o
        while end > ps and self.masked[end - 1].isspace():
            end -= 1
        start = self.sent_start(end - 1, max(ps, end - WINDOW)) if end > ps else ps
        toks = self.toks(start, end)
        if not toks or any(t[0][0] == "\x01" for t in toks):
            return None  # that sentence has its own quotation; the chain rule decides
        r = self.cue_before(toks, q)
        if r is None or not r.speaker or not r.cue:
            return None
        verb = r.cue.split(" ", 1)[0].casefold()
        if verb not in SAY_VERBS or (verb in ("according", "reported", "reports") and toks[-1][0] != ":"):
            return None  # "The Post reported: …" introduces what follows; "The Post reported that …" need not
        return r

    # -- turning a noun phrase into a speaker

    def speaker_from(self, toks: list[Tok], np: tuple[int, int] | None, pos: int) -> Attribution | None:
        """Turn a noun phrase into a speaker: full name, role, organisation or resolved pronoun."""
        if np is None:
            return None
        words = toks[np[0] : np[1] + 1]
        if len(words) == 1 and words[0][0].casefold() in PERSON_PRONOUNS:
            return self.pronoun(words[0], pos)
        while words and bare(words[0][0]) in STOP_CAPS | GENERIC and len(words) > 1:
            if bare(words[0][0]) in GENERIC and bare(words[0][0]) not in DETS:
                return None  # "some officials", "many analysts"
            words = words[1:]
        if not words or len(words) > 9:
            return None
        lw = [bare(w[0]) for w in words]
        if lw[0] in GENERIC or (len(words) == 1 and lw[0] in STOP_CAPS):
            return None
        last = words[-1][0]
        if describes(toks, np):
            # "the American said", "the 28-year-old added": someone the article introduced before
            return self.descriptor(words[-1], pos)
        if not is_cap(last):
            if lw[-1] not in ORG_HEADS:
                return None
            caps = [w[0] for w in words if is_cap(w[0])]
            start = words[0][1]
            role = None
            title, name = split_title([w[0] for w in words])
            if title and name and is_cap(name[0]) and any(is_possessive(w) for w in name):
                role = role_text(title)
                start = words[len(title)][1]
            spk = self.text[start : words[-1][2]]
            if not caps:
                # "the senator", "the newspaper": only as the entity the article introduced, else no one
                r = self.by_role(words, pos) if len(words) == 1 and lw[-1] in TITLES else None
                return r or self.by_head(words, pos)
            return Attribution(spk, start, words[-1][2], role, None, None, False)
        # proper name: the part after any possessive ("China's Xi" -> "Xi") or role noun
        # ("spokesman Alex Folkes", "Ulster man Humphreys")
        cut = max(
            (k for k, w in enumerate(words[:-1]) if is_possessive(w[0]) or not (is_cap(w[0]) or joiner(w[0]))),
            default=-1,
        )
        pre = words[: cut + 1]
        words = words[cut + 1 :]
        for k, w in enumerate(words):
            # "Brian Taylor of Wells Fargo" -> "Brian Taylor"; "Bank of England" stays whole
            if bare(w[0]) in ("of", "from", "at") and k >= 2 and not any(bare(x[0]) in NON_PERSON for x in words[:k]):
                words = words[:k]
                break
        if any(bare(w[0]) in ("and", "&") for w in words):
            return None  # several speakers at once
        title, name_words = split_title([w[0] for w in words])
        title_txt = role_text(title)
        if pre and not title_txt:
            pre_txt = self.text[pre[0][1] : pre[-1][2]]
            if not is_possessive(pre[-1][0]) and bare(pre[-1][0]) in TITLES | ORG_HEADS:
                title_txt = pre_txt  # "spokesman Alex Folkes" -> role "spokesman"
        titles_only = all(bare(w[0]).rstrip(".") in TITLES - HONORIFICS for w in words)  # not "Mr King"
        if not name_words or titles_only:
            return self.by_role(words, pos)  # "the Prime Minister said": whoever the article gave that role
        nw = words[len(title) :]
        key = tuple(bare(w) for w in name_words)
        if len(key) == 1 and (key[0] in GENERIC or key[0] in STOP_CAPS or len(key[0]) < 2):
            return None
        p = self.lex.expand(key, pos)
        m_start, m_end = nw[0][1], nw[-1][2]
        if p is not None and (len(p.key) > len(key) or p.key == key):
            return Attribution(p.name, m_start, m_end, title_txt or p.role, None, None, p.person or bool(title))
        shown = self.text[m_start:m_end]
        if len(key) == 1 and title and bare(title[-1]).rstrip(".") in HONORIFICS and not (p and p.name != shown):
            m_start = words[len(title) - 1][1]
            shown = self.text[m_start:m_end]  # "Mr Smith" when no fuller name is given
        return Attribution(shown, m_start, m_end, title_txt, None, None, bool(title) or self.lex.person_like(key))

    def by_role(self, words: list[Tok], pos: int) -> Attribution | None:
        """ "The Prime Minister said" -> the person the article gave that role to."""
        role = " ".join(w[0] for w in words).casefold()
        best: Person | None = None
        for p in self.lex.names.values():
            if (
                p.role
                and (p.role.casefold() == role or p.role.casefold().endswith(" " + role))
                and p.positions[0] < pos
                and (best is None or p.positions[-1] > best.positions[-1])
            ):
                best = p
        if best is None:
            return None
        return Attribution(best.name, words[0][1], words[-1][2], best.role, None, None, True)

    def by_head(self, words: list[Tok], pos: int) -> Attribution | None:
        """ "The ministry said" -> the latest name before pos with that head ("the Foreign Ministry")."""
        head = bare(words[-1][0])
        heads = NEWSPAPER_WORDS if head in ("newspaper", "paper") else frozenset((head,))
        best: Person | None = None
        for p in self.lex.names.values():
            if p.role or not heads.intersection(p.key) or p.positions[0] >= pos:
                continue
            if best is None or p.positions[-1] > best.positions[-1]:
                best = p
        if best is None:
            return None
        return Attribution(best.name, words[0][1], words[-1][2], None, None, None, False)

    def pronoun(self, tok: Tok, pos: int) -> Attribution | None:
        """The person "he" or "she" refers to, from the few sentences before it."""
        if not self.has_person:
            return None  # nobody the article names could be "he" or "she"
        gender = "m" if tok[0].casefold() == "he" else "f"
        # where each of the five earlier sentences starts: look 200 characters back first, 600 if that holds fewer
        for back in (200, 600):
            lo = max(0, tok[1] - back)
            starts = [lo] + [m.end() for m in BOUND.finditer(self.masked, lo, tok[1]) if self._valid_bound(m)]
            if len(starts) > 5 or lo == 0:
                break
        ends = starts[1:] + [tok[1]]
        for s, e in list(zip(starts, ends, strict=True))[::-1][:5]:
            seg = self.toks(s, e)
            found = self.person_in_sentence(seg, s, e, gender, pos)
            if found == "chain":
                continue
            if isinstance(found, Attribution):
                return Attribution(found.speaker, tok[1], tok[2], found.role, None, None, True)
        return None

    def descriptor(self, tok: Tok, pos: int) -> Attribution | None:
        """The person "the American" or "the 28-year-old" stands for: a description points back past its own
        sentence ("Reacting to a comment by chairman Tim Phillips, the American said" is not Phillips), to the
        person a few sentences before it is about."""
        if not self.has_person:
            return None
        lo = max(0, tok[1] - 800)
        starts = [lo] + [m.end() for m in BOUND.finditer(self.masked, lo, tok[1]) if self._valid_bound(m)]
        ends = starts[1:] + [tok[1]]
        for s, e in list(zip(starts, ends, strict=True))[::-1][1:6]:  # its own sentence is skipped
            found = self.person_in_sentence(self.toks(s, e), s, e, ANY_GENDER, pos, passing=False)
            if isinstance(found, Attribution):
                return Attribution(found.speaker, tok[1], tok[2], found.role, None, None, True)
        return None

    def person_in_sentence(self, seg: list[Tok], s: int, e: int, gender: str, pos: int,
                           passing: bool = True) -> Attribution | None | str:
        """The person a sentence is about: its subject, a quoted speaker, or a named person (not, unless
        `passing`, one a preposition names in passing: "Arsenal lost at Old Trafford", "a comment by Tim Pike")."""
        np = subject(seg, 0, len(seg))
        if np is not None:
            words = seg[np[0] : np[1] + 1]
            if len(words) == 1 and words[0][0].casefold() in PERSON_PRONOUNS:
                if gender == ANY_GENDER or (words[0][0].casefold() == "he") == (gender == "m"):
                    return "chain"  # same pronoun: refers back further
            else:
                r = self.speaker_from(seg, np, pos)
                head = bare(words[-1][0])
                if r is not None and not is_cap(words[-1][0]):
                    # "spokeswoman" ends in "man" too
                    wrong_gender = head.endswith("woman") if gender == "m" else head.endswith("man") and \
                        not head.endswith("woman")
                    not_a_person = head not in ORG_HEADS or head in ("government", "ministry", "company", "firm")
                    if wrong_gender or not_a_person:
                        r = None  # "an executive spokeswoman" may be "she"; "the ministry" is not "he"
                    else:
                        r.person = True
                if (
                    r is not None
                    and r.person
                    and self._gender_ok(r.speaker, gender)
                    and not self._named_in_quote(r, pos)
                ):
                    return r
        k = bisect.bisect_left(self.q_starts, s)
        best: QSpan | None = None
        while k < len(self.qs) and self.qs[k].o < e:
            qq = self.qs[k]
            if qq.speaker and qq.person and self._gender_ok(qq.speaker, gender) and qq.o != pos:
                best = qq
            k += 1
        if best is not None:
            return Attribution(best.speaker, None, None, best.role, None, None, True)
        pron = "he" if gender == "m" else "she"
        if gender != ANY_GENDER and any(t[0].casefold() == pron for t in seg):
            return "chain"  # the sentence talks about the same "he": look further back
        for a, b in cap_runs(seg):
            words = seg[a : b + 1]
            if is_possessive(words[-1][0]):
                continue
            before = a - 1 if a > 0 and bare(seg[a - 1][0]) != "the" else a - 2
            if not passing and before >= 0 and bare(seg[before][0]) in _LINKS:
                continue
            if not passing and a > 0 and bare(seg[a - 1][0]) in ("the", "a", "an"):
                continue  # "a Grand Slam event", "the Wooden Spoon": a thing, not the person a description stands for
            r = self.speaker_from(seg, (a, b), pos)
            if r is not None and r.person and self._gender_ok(r.speaker, gender) and not self._named_in_quote(r, pos):
                return r
        return None

    def _named_in_quote(self, r: Attribution, pos: int) -> bool:
        """People rarely name themselves: "I've had a word with Olof" is not Olof speaking."""
        k = bisect.bisect_left(self.q_starts, pos)
        if k >= len(self.qs) or self.qs[k].o != pos or not r.speaker:
            return False
        q = self.qs[k]
        words = {bare(w) for w in TOKEN.findall(self.text, q.start, min(q.end, q.start + 3000))}
        return any(len(t) > 2 and t in words for t in (bare(x) for x in r.speaker.split()) if t[:1].isalpha()) and bool(
            r.speaker[:1].isupper()
        )

    def _gender_ok(self, name: str | None, gender: str) -> bool:
        if not name:
            return False
        if gender == ANY_GENDER:
            return True
        words = name.split()
        p = self.lex.names.get(tuple(bare(w) for w in split_title(words)[1] or words))
        if p is None:
            return True
        if p.gender is None:
            p.gender = self._vote_gender(p)
        return p.gender in ("", gender)

    def _vote_gender(self, p: Person) -> str:
        """Guess a person's gender from the first pronoun after each mention ("" when unsure)."""
        m = f = 0
        for at in p.positions[:8]:
            hit = PRONOUN.search(self.masked, at, min(len(self.masked), at + 160))
            if hit:
                if hit.group(1).casefold() == "he":
                    m += 1
                else:
                    f += 1
        return "m" if m > f else "f" if f > m else ""


class Attribution:
    """An attribution under construction."""

    def __init__(
        self,
        speaker: str | None = None,
        m_start: int | None = None,
        m_end: int | None = None,
        role: str | None = None,
        description: str | None = None,
        cue: str | None = None,
        person: bool = False,
    ) -> None:
        self.speaker = speaker
        self.m_start = m_start
        self.m_end = m_end
        self.role = role
        self.description = description
        self.cue = cue
        self.person = person

    def with_cue(self, cue: str) -> Attribution:
        """Set the cue and return self."""
        self.cue = cue
        return self
