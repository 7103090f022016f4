"""Conversation: read a follow-up in the light of the turns before it ("Who is he?", "And Russia?", "More detail").

Pure functions over plain turn records; where turns are kept (a store table, memory) is the caller's business.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.question import META_WORDS, REQUEST_WORDS, Query
from bot.text import FILLERS, STOPWORDS, YEAR, content_terms

log = logging.getLogger("briefbot.conversation")
Similar = Callable[[str, list[str]], int]
MAX_TURNS = 8  # turns a follow-up may look back on: a 500-turn thread costs what an 8-turn one does
MAX_STORED_TEXT = 2000

_SWITCH = re.compile(r"^(?:(?:ok(?:ay)?|so|right|alright)[,.]?\s+)?(?:(?:a\s+)?(?:totally|completely|entirely)?\s*"
                     r"(?:different|diff|unrelated|new|separate|other|another|random)\s+(?:question|q|qn|topic|subject|"
                     r"thing|one)|unrelated|new topic|changing (?:the )?(?:subject|topic)|change of (?:subject|topic)|"
                     r"switching (?:gears|topics?)|on (?:a|an) (?:different|unrelated|other|another) (?:note|topic)|"
                     r"different topic|separately|by the way|btw|also unrelated|"
                     r"(?:(?:totally|completely|entirely)\s+)?unrelated(?:ly)?(?:,? but)?)"
                     r"\s*(?:[:,;.!?-]+)?\s*(?:but\b)?\s*", re.I)
_MORE = re.compile(r"^(?:(?:can you |could you |please )?(?:give me |tell me |show me )?(?:some |a bit |a little )?"
                   r"(?:more|further|extra)(?: detail(?:s)?| info(?:rmation)?| context| on (?:that|this|it))?|"
                   r"go on|continue|keep going|elaborate|expand(?: on that| on it)?|details?|what else|anything else|"
                   r"and then what|then what|and\??|more please|say more)\b\s*(?:please)?\s*"
                   r"(?:[:,;.!?-]+\s*|\s*(?=(?:about|on|regarding|re)\b)|$)", re.I)
_ELLIPSIS = re.compile(r"^(?:and|but|also|so)?\s*(?:what|how)\s+about\s+(?P<x>.+?)\s*\??$|"
                       r"^(?:and|but|also)\s+(?:for\s+|with\s+|in\s+)?(?P<y>[^?]+?)\s*\??$|"
                       r"^(?:same|the same)\s+(?:for|with|about)\s+(?P<z>.+?)\s*\??$", re.I)
_SOURCE_OF = re.compile(r"\b(?:which|what|who|whose)\s+(?:\w+\s+){0,2}(?:outlets?|papers?|newspapers?|agenc(?:y|ies)|"
                        r"sources?|sites?|websites?|publications?|networks?|channels?|correspondents?|reporters?|"
                        r"journalists?|media|broadcasters?|wire)\b.*\b(?:that|this|it|so|those|these)\b", re.I)
# "where did that story come from?", "according to whom?", "who says so?": the source, in other words
_WHENCE = re.compile(r"^(?:and|so|ok(?:ay)?|but)?[\s,]*(?:where|who)\s+(?:did|does|do)\s+(?:that|this|it)(?:\s+\w+)?"
                     r"\s+come from\b|\baccording to (?:whom|who)\b|^(?:and\s+)?who\s+says(?:\s+so)?\W*$|"
                     r"\b(?:what|who)(?:'?s| is) the source\b", re.I)
# "when did he say that?", "where was that?", "how much did they pay?": a circumstance of what the last answer
# showed, told at it
_CIRCUMSTANCE_OF = re.compile(r"^(?:and|so|ok(?:ay)?)?[\s,]*(?:when|where)\s+(?:did|does|do|was|were|is|has|had)\s+"
                              r"(?:(?:he|she|they|it|\w+)\s+)?(?:(?:say|said|tell|told|write|wrote|announce|announced|"
                              r"report|reported|claim|claimed|do|did|make|made|happen|happened)\s+)?"
                              r"(?:that|this|it|so)\b\W*$|"
                              r"^(?:and|so)?[\s,]*(?:when|where)\s+(?:did|does|was|is)\s+(?:that|this|it)\s+"
                              r"(?:happen|take place|come out)\b\W*$|"
                              # "how much did they pay?", "how much was it?": the figure of what was just shown
                              r"^(?:and|so|ok(?:ay)?)?[\s,]*how\s+(?:much|many)\s+(?:did|does|do|was|were|is|are|will|"
                              r"would)\s+(?:he|she|they|it|that|this)(?:\s+[a-z]+)?(?:\s+for\s+(?:it|that|them))?\W*$",
                              re.I)
# "and the tram line, when will it open?": a subject put first, then a question about it ("it" is the tram line)
_FRONTED = re.compile(r"^(?:(?:and|but|also|so|ok(?:ay)?|now)[,]?\s+)?(?:(?:what|how)\s+about\s+|as\s+for\s+|re:?\s+)?"
                      r"(?P<np>[^,?;:]{2,60}?),\s*(?P<q>(?:who|whom|whose|what|when|where|why|how|which|is|are|was|"
                      r"were|did|does|do|will|would|can|could|has|have|had)\b[^?]*)\??\s*$", re.I)
# words that open a framing clause or an interjection, not a subject: "across the stories on …, why …?", "thanks, …"
_NOT_A_SUBJECT = frozenset(["across", "according", "among", "around", "despite", "regarding", "concerning", "within",
                            "without", "beyond", "since", "like", "unlike", "via", "towards", "toward", "amid",
                            "besides", "throughout", "upon", "thanks", "thank", "cheers", "great", "cool", "nice",
                            "right", "sure", "yes", "yeah", "yep", "no", "nope", "well", "interesting", "wow", "fine",
                            "please", "pls", "sorry", "hi", "hello", "hey", "one", "last", "first", "finally", "also",
                            "go", "tell", "more", "continue", "totally", "unrelated", "different", "anyway"])
_DETERMINERS = frozenset(["the", "a", "an", "this", "that", "these", "those", "its", "their", "his", "her", "our",
                          "my", "your"])
_FRONTED_PRONOUN = re.compile(r"\b(?P<p>it|its|they|them|their|he|him|his|she|her)\b", re.I)
_LEADING_AND = re.compile(r"^(?:and|also|so|but|ok(?:ay)?|then)\s*[,]?\s+", re.I)
_HAD_AFTER = r"(?=\s+(?:been|had|already|never|just|ever|gone|done|seen|[a-z]+ed)\b)"


def _uncontracted(text: str) -> str:
    """"he'd", "she's", "he'll" written out, so the name put for the pronoun reads as a word ("Mr Bell would"):
    'd is "had" before a past participle ("he'd been"), else "would"; 's is "has" before one, else "is"."""
    text = re.sub(r"\b(he|she)['’]d\b" + _HAD_AFTER, r"\1 had", text, flags=re.I)
    text = re.sub(r"\b(he|she)['’]d\b", r"\1 would", text, flags=re.I)
    text = re.sub(r"\b(he|she)['’]s\b" + _HAD_AFTER, r"\1 has", text, flags=re.I)
    text = re.sub(r"\b(he|she)['’]s\b", r"\1 is", text, flags=re.I)
    return re.sub(r"\b(he|she)['’]ll\b", r"\1 will", text, flags=re.I)


_PERSON_PRONOUN = re.compile(r"\b(?:he|him|his|she|her|hers|himself|herself)\b", re.I)
_THING_PRONOUN = re.compile(r"\b(?:it|its|that|this|those|these|they|them|their|there|the same)\b", re.I)
_QWORD = re.compile(r"\b(?:who|what|when|where|why|how|which|whose|whom|did|does|do|is|are|was|were|has|have|"
                    r"can|could|would|will|should)\b", re.I)
_NOUNISH_AFTER_HER = re.compile(r"\bher\s+(?!(?:to|about|on|at|in|for|with|from|by|as|and|or|but|if|that|when|"
                                r"where|why|how|say|said|tell|told|[.?!,]|$))", re.I)


@dataclass
class Turn:
    """One question and what the bot answered, as a follow-up needs it."""

    question: str
    resolved: str  # the standalone reading the bot answered
    kind: str
    subject: str | None = None  # the person or thing the turn was about
    person: bool = False  # whether the subject is a person
    names: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    doc_ids: list[int] = field(default_factory=list)  # documents the answer cited
    shown: list[list[int]] = field(default_factory=list)  # [doc_id, start, end] of every cited span
    found: bool = True
    answer_names: list[str] = field(default_factory=list)  # names in the cited passages ("that think tank")
    answered: str | None = None  # the person a who-question was answered with: whom "he" means next

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Turn:
        keys = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in keys})


def turns_from_rows(rows: list[str]) -> list[Turn]:
    """Stored turns (JSON, oldest first) as Turns; an unreadable one is skipped, not fatal."""
    out = []
    for r in rows:
        try:
            out.append(Turn.from_json(json.loads(r)))
        except (ValueError, TypeError, AttributeError):
            log.warning("skipping an unreadable conversation turn")
    return out


@dataclass
class Reading:
    """How to answer a message given the conversation: the question to analyse and what it carries over."""

    question: str
    context: list[str] = field(default_factory=list)  # words from earlier turns, weighted lower
    prefer_docs: list[int] = field(default_factory=list)  # where the conversation has been
    exclude: list[tuple[int, int, int]] = field(default_factory=list)  # (doc_id, start, end) already shown
    follow_up: bool = False
    more: bool = False
    subject: str | None = None  # "And Tokyo?": what the follow-up is about, for the turn after it
    anchored: bool = False  # "who wrote it?" with no name for "it": answered in the conversation's articles
    pointing: bool = False  # "that think tank", "this report": the earlier turns name what it points at
    near: list[tuple[int, int, int]] = field(default_factory=list)  # "which outlet reported that?": the spans meant
    avoid: list[str] = field(default_factory=list)  # "And Russia?": words of the subject it replaced...
    instead: list[str] = field(default_factory=list)  # ...and of the new one
    known: list[str] = field(default_factory=list)  # "where was he born?": words of the person "he" stood for
    note: str = ""


def _subject(turns: list[Turn], person: bool) -> str | None:
    """The most recent subject a pronoun can stand for (a person for he/she, a thing for it/its); failing that,
    the last subject of either kind ("Mary Poppins" reads as a person's name and is a musical); failing that, for
    he/she, a "Mr …" the last answers named."""
    for t in reversed(turns):
        if person and t.answered:
            return t.answered  # "which tory mp defected?" then "what's his problem?": the MP the answer named
        if t.subject and t.person == person:
            return t.subject
    if person:
        # "how old is he?" after questions about "the t-mobile hacker" or "the queen of the sky blogger", which name
        # no person: the one the last answers named as a person ("Mr Jacobsen", "Ms Simonetti"), unless that is the
        # subject with a title ("Lord Callaghan" for "callaghan")
        subjects = {w.casefold() for t in turns if t.subject for w in t.subject.split()}
        for t in reversed(turns[-2:]):
            titled = [n for n in t.answer_names if _TITLED.match(n) and not {w.casefold() for w in n.split()} & subjects]
            if titled:
                return titled[0]
    for t in reversed(turns):
        if t.subject:
            return t.subject
    return None


_TITLED = re.compile(r"(?:Mr|Mrs|Ms|Miss|Dr|Sir|Lord|Lady|Dame) [A-Z]")


def _replace_pronouns(text: str, turns: list[Turn]) -> tuple[str, bool]:
    """'Where does she work?' -> 'Where does Jenny Town work?'; 'its deputy leader' -> 'Veritas's deputy leader'."""
    # a reflexive names who its clause already names ("Is Lacroix himself staying on?", "did she do it herself")
    text = re.sub(r"\s+(?:him|her|them|it)sel(?:f|ves)\b", "", text, flags=re.I)
    changed = False
    person = _subject(turns, person=True)
    if person and _PERSON_PRONOUN.search(text):
        text = _uncontracted(text)  # "what did he say he'd do?" -> "… Mr Bell would do", not "Mr Bell'd"
        def poss(m: re.Match[str]) -> str:
            return f"{person}'s "
        new = re.sub(r"\b(?:his|hers)\b\s*", poss, text, flags=re.I)
        new = _NOUNISH_AFTER_HER.sub(poss, new)
        new = re.sub(r"\b(?:he|she|him|her)\b", person, new, flags=re.I)
        changed = new != text
        text = new
    thing = _subject(turns, person=False)
    if thing and changed and thing == person:
        thing = None  # "did he write it himself?": "it" is not the person "he" already is
    if thing and re.search(r"\bits\b", text, re.I):
        text = re.sub(r"\bits\b", f"{thing}'s", text, flags=re.I)
        changed = True
    if thing and re.search(r"\b\w+\s+it\s*[?.!]*$", text, re.I):  # "who directed it?" (an object, not "is it")
        text = re.sub(r"\bit(\s*[?.!]*)$", lambda m: thing + m.group(1), text, flags=re.I)
        changed = True
    return text, changed


def _same_kind(new: str, question: str, subject: str | None = None) -> str | None:
    """The word (or two-word name) of a question that names the same kind of thing as `new`, by WordNet's
    classes (a capital for a capital, a country for a country, a people for a people); None when none does or
    WordNet is not installed."""
    from bot import wordnet

    wn = wordnet.shared()
    if wn is None:
        return None
    kinds = wn.kinds(new)
    if not kinds:
        return None
    words = re.findall(r"[^\W\d_]+", question)
    new_words = {w.casefold() for w in re.findall(r"[^\W\d_]+", new)}
    found: list[str] = []
    i = 0
    while i < len(words):  # in the question's order; "north korea" before "korea"
        for g in ([" ".join(words[i:i + 2])] if i + 1 < len(words) else []) + [words[i]]:
            if g.casefold() in new_words or len(g) < 3 or g.casefold() in STOPWORDS or not wn.kinds(g) & kinds:
                continue
            found.append(str(g))
            i += len(g.split()) - 1
            break
        i += 1
    if not found:
        return None
    # "what does China provide North Korea with?" then "and Russia?": two countries; the subject is the one meant
    return next((g for g in found if subject and g.casefold() == subject.casefold()), found[0])


_DETERMINER = re.compile(r"^(?:the|a|an|this|that|these|those|its|their|his|her|our)\s+", re.I)


def _replace_subject(prev: Turn, new: str, similar: Similar | None) -> tuple[str, str]:
    """The previous question with its subject swapped for a new one ('And Russia?'), and the words replaced.

    The subject is the person or thing the last turn was about; failing that (a question typed in lower
    case names nothing), the word of the last question most like the new one ("and tokyo?" after "how did
    seoul react" replaces "seoul")."""
    q = prev.resolved
    if YEAR.fullmatch(new.strip()) and (year := YEAR.search(q)):  # "and 2005?" after "… grow in 2004"
        return q[:year.start()] + new.strip() + q[year.end():], year.group(0)
    bare = _DETERMINER.sub("", new.strip()) or new  # "and the consulates?" after "which embassies …"
    same = _same_kind(bare, q, prev.subject or (prev.names[0] if prev.names else None))
    if same:  # "and tokyo?" after "how did seoul react to kim's visit": Seoul, a capital like Tokyo, not Kim
        return _swap(q, rf"\b{re.escape(same)}\b", bare), same
    for old in ([prev.subject] if prev.subject else []) + prev.names:
        if old and re.search(re.escape(old), q, re.I):
            return _swap(q, re.escape(old), new), old
    # ("and what about putin?" after "give me the gist of the summit": the summit, about Putin; never the gist)
    words = [w for w in content_terms(q) if w.isalpha() and w not in {c.casefold() for c in content_terms(new)}
             and w not in REQUEST_WORDS and w not in META_WORDS]
    if words and similar is not None and prev.kind != "summary":
        # (after a summary, "and what about Putin?" narrows it to him: "give me the gist of the summit", about Putin)
        old = words[similar(new, words)]
        return _swap(q, rf"\b{re.escape(old)}\b", new), old
    return f"{new}: {q}", ""


def _swap(q: str, pattern: str, new: str) -> str:
    """`q` with the first match of `pattern` replaced by `new`, taking in the words before it from the one `new`
    starts with: "best actress" becomes "best british film", not "best best british film"."""
    m = re.search(pattern, q, re.I)
    if m is None:
        return q
    start, words = m.start(), new.split()
    if len(words) > 1:
        # the noun phrase the match ends: from new's first word, when it is among the three words before it
        # ("best supporting actress" -> "best british film")
        before = re.search(rf"\b{re.escape(words[0])}\s+(?:[\w'’-]+\s+){{0,2}}$", q[:start], re.I)
        if before is not None:
            start = before.start()
    return q[:start] + new + q[m.end():]


def _fronted(text: str) -> str | None:
    """"and the tram line, when will it open?" -> "when will the tram line open?"; None when the message does not
    put a subject before a question whose pronoun stands for it."""
    m = _FRONTED.match(text)
    if m is None:
        return None
    np, q = m.group("np").strip(), m.group("q").strip()
    words = [w.casefold() for w in re.findall(r"[\w'’-]+", np)]
    first = words[0] if words else ""
    if not content_terms(np) or _QWORD.search(np) or _THING_PRONOUN.fullmatch(np) or _PERSON_PRONOUN.search(np) \
            or first in FILLERS or first in _NOT_A_SUBJECT or first in STOPWORDS - _DETERMINERS or re.fullmatch(r"\w+(?:ing|ed)", first):
        # "thanks, what did he say next?", "and that, why?", "In 2004, …", "Going by the reports, …": no subject
        return None
    p = _FRONTED_PRONOUN.search(q)
    if p is None:
        return None
    possessive = p.group("p").casefold() in {"its", "their", "his", "her"} and not re.match(
        r"\s+(?:to|about|on|at|in|for|with|from|by|as|and|or|but|[.?!,]|$)", q[p.end():])
    who = np + ("'s" if possessive else "")
    return q[:p.start()] + who + q[p.end():] + "?"


def read(message: str, turns: list[Turn], similar: Similar | None = None) -> Reading:
    """The standalone question a message asks, given the earlier turns (most recent last). `similar(a, words)`
    gives the index of the word most like `a` (an embedding model's judgement), when one is at hand."""
    text = re.sub(r"\s+", " ", (message or "").strip())
    turns = turns[-MAX_TURNS:]
    m = _SWITCH.match(text)
    if m and m.end() < len(text):
        return Reading(text[m.end():].strip() or text, note="new subject")
    fronted = None if _MORE.match(text) else _fronted(text)  # "go on, what did his camp say?" asks for more
    if fronted:
        return Reading(fronted, note="a subject put first")
    if not turns or not any(c.isalnum() for c in text):
        return Reading(text)  # a first question, or a message with no words in it (emoji, symbols)
    prev = next((t for t in reversed(turns) if t.found), turns[-1])
    # the last answered turn's words first, then the one before it: after "go on, what does that phrase mean?",
    # "they" still lives in the question before ("how did pyongyang respond …")
    answered = [t for t in reversed(turns) if t.found][:2] or [prev]
    context = list(dict.fromkeys(w for t in answered for n in t.names + t.terms + t.answer_names
                                 for w in content_terms(n)))[:16]
    docs = list(dict.fromkeys(d for t in reversed(turns[-3:]) for d in t.doc_ids))[:12]
    shown = [(s[0], s[1], s[2]) for t in turns[-3:] for s in t.shown if len(s) == 3]
    whence = bool(_WHENCE.search(text))
    if _SOURCE_OF.search(text) or _CIRCUMSTANCE_OF.match(text) or whence:
        near = [(s[0], s[1], s[2]) for s in prev.shown if len(s) == 3]
        resolved, changed = _replace_pronouns("who reported that" if whence else text, turns)
        person = _subject(turns, person=True) if changed else None
        # what the last answer showed is in its articles: they answer (another article's "reported" does not)
        return Reading(resolved, context, docs, near=near, follow_up=True, anchored=True,
                       note="the source of the last answer" if _SOURCE_OF.search(text) or whence
                       else "about the last answer",
                       known=[w for w in content_terms(person) if w.casefold() not in text.casefold()]
                       if person and person not in text else [])
    m = _MORE.match(text)
    if m:
        rest = text[m.end():].strip()
        rest = re.sub(r"^(?:about|on|regarding|re)\s+", "", rest, flags=re.I)
        if not rest:
            return Reading(prev.resolved, context, docs, shown, follow_up=True, more=True, note="more on the last answer")
        asks = bool(_QWORD.match(rest))  # "more detail: why wouldn't they back it?" is a question of its own
        rest, _ = _replace_pronouns(rest, turns)
        return Reading(rest, context, docs, [] if asks else shown, follow_up=True, more=not asks, note="more detail")
    e = _ELLIPSIS.match(text)
    if e:
        x = (e.group("x") or e.group("y") or e.group("z") or "").strip()
        if x and len(x.split()) <= 6 and not _QWORD.search(x) and not _THING_PRONOUN.fullmatch(x):
            x, _ = _replace_pronouns(x, turns)
            question, replaced = _replace_subject(prev, x, similar)
            old = {w.casefold() for w in replaced.split()}
            context = [c for c in context if c.casefold() not in old]  # "And Russia?" is no longer about China
            return Reading(question, context, docs, follow_up=True, note=f"the same about {x}", subject=x,
                           avoid=[w for w in old if w not in {c.casefold() for c in content_terms(x)}],
                           instead=content_terms(x))
    rest = _LEADING_AND.sub("", text)
    started_with_link = rest != text
    resolved, changed = _replace_pronouns(rest, turns)
    person = _subject(turns, person=True) if changed else None
    has_thing_ref = bool(_THING_PRONOUN.search(rest)) or bool(re.search(r"\b(?:else|again|too|also)\b", rest, re.I))
    own_names = [w for w in re.findall(r"\b[A-Z][\w'-]+", rest[1:] if rest else "")]
    short = len(content_terms(rest)) <= 3
    if changed or has_thing_ref or started_with_link or (short and not own_names):
        other = bool(re.search(r"\b(?:else|other|another)\b", rest, re.I))  # "who else ...": not the one before
        avoid = [w.casefold() for w in (prev.subject or "").split() if len(w) > 2] if other else []
        pointing = bool(re.search(r"\b(?:that|this|those|these|the same)\s+(?!is\b|was\b|are\b|were\b)[a-z]+",
                                  rest, re.I))
        # "who wrote it anyway?" when no earlier turn named the thing: "it" is what the conversation was about,
        # and the articles it was about answer
        anchored = not changed and not pointing and short and not own_names and bool(_THING_PRONOUN.search(rest))
        return Reading(resolved, context, docs, shown if other else [], follow_up=True, note="follow-up",
                       avoid=avoid, pointing=pointing, anchored=anchored,
                       known=[w for w in content_terms(person) if person and w.casefold() not in rest.casefold()]
                       if person else [])
    return Reading(text)


_CAPS_RUN = re.compile(r"(?<=[a-z,;:(] )[A-Z][\w'’\-]+(?: (?:of |the |de |van )?[A-Z][\w'’\-]+)+")


_NAME_RUN = re.compile(r"\b[A-Z][a-z][\w'’\-]*(?: [A-Z][a-z][\w'’\-]*)+")


def _typed_name(question: str, cited_text: str) -> str | None:
    """A name the question typed in lower case that the answer writes with capitals ("where's jesper gronkjaer
    moving to" -> "Jesper Gronkjaer has agreed a move …"): whom "he" means next."""
    from bot import wordnet

    wn = wordnet.shared()
    low = " " + re.sub(r"[^\w'’\- ]+", " ", question.casefold()) + " "
    for m in _NAME_RUN.finditer(cited_text[:4000]):
        name = m.group(0)
        if f" {name.casefold()} " not in low:
            continue
        if wn is not None and wn.knows(name.casefold()) and not wn.names_a_person(name.casefold()):
            continue  # "a cold war mentality", "the european union": a thing the dictionary knows, not a person
        return name
    return None


def turn_of(message: str, reading: Reading, query: Query, cited: list[tuple[int, int, int]], found: bool,
            cited_text: str = "", answered: str | None = None) -> Turn:
    """The record a later follow-up needs from this turn (`answered`: the person a who-question was answered
    with, whom "he" means next: after "which tory mp defected?", "his problem" is Robert Jackson's)."""
    subject = query.speaker or reading.subject or (query.names[0] if query.names else None) \
        or _typed_name(reading.question, cited_text)
    person = bool(query.speaker) or bool(subject and len(subject.split()) >= 2 and subject[:1].isupper())
    return Turn(question=message[:MAX_STORED_TEXT], resolved=reading.question[:MAX_STORED_TEXT], kind=query.kind,
                subject=subject, person=person, names=list(query.names)[:8], terms=list(query.terms)[:12],
                doc_ids=list(dict.fromkeys(d for d, _, _ in cited))[:12], shown=[list(c) for c in cited][:12],
                found=found, answer_names=[n for n in dict.fromkeys(_CAPS_RUN.findall(cited_text[:4000]))
                                           if n != subject][:8], answered=answered)
