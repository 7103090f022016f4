"""What a brief may show: points that stand alone, speakers that are names, outlets by their name.

Pure text rules shared by the extractive and the LLM summarizers; imports nothing of the store or LLM.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from bot import wordnet
from bot.domain import Citation, Document, StoryBrief
from bot.quotes.names import valid_speaker
from bot.quotes.words import _words
from bot.text import tokens

# A sentence opening with one of these points back at something said before it.
_PRONOUNS = _words(
    "he she it they him her them his hers its their theirs this that these those such both neither either"
    " another others there")
# Connectives that lean on the sentence before ("But the union…"): the point would start mid-argument.
_CONNECTIVES = _words(
    "but and also however meanwhile instead still yet then so nevertheless nonetheless moreover furthermore"
    " besides otherwise thus hence therefore likewise similarly again later earlier")
# "The firm said…": a definite description standing for a name given earlier.
_ANAPHORIC_HEADS = _words(
    "firm company group club player man woman move decision deal plan bank minister side team star singer"
    " actor actress country pair two three latter former same couple band film show report case trio duo"
    " striker midfielder defender manager boss official officials spokesman spokeswoman star's pact"
    " agreement measure bill proposal offer claim claims figure figures incident accident attack"
    " president chairman leader")
# what "that …" points back at: "disputed that account", "rejected that view"
_BACK_NOUNS = _ANAPHORIC_HEADS | _words(
    "account view version idea argument claim statement suggestion assessment analysis story position stance"
    " approach offer request demand promise warning threat criticism number estimate total amount sum")
_DEMONSTRATIVE = re.compile(r"\b(?:this|that|these|those|such)\s+([a-z][a-z\-]+)\b")
# words that follow a sentence's subject: "The winger has …", "The winger, who …"
_AFTER_SUBJECT = _words(
    "is was are were has had have will would could should may might can must did does said says told who whose")
_TIME_NOUNS = _words(
    "year week month season morning afternoon evening night weekend time summer winter spring autumn"
    " decade century day quarter term")
_NOT_A_NOUN = _words(
    "is was are were has had have will would could should may might can the a an it he she they we you i"
    " there this that if when as of to in on for with by not no all some many")
# after these, "that" opens a clause ("said that workers…"), not a reference
_CLAUSE_WORDS = _words(
    "said says added warned claimed argued believed feared insisted stated noted reported suggested announced"
    " confirmed denied believes claims argues insists fears hoped hopes expected expects revealed showed shows"
    " means meant knows learned thinks thought agreed admitted admits ruled decided so now given such ensure"
    " ensuring hope say fact know think believe expect claim argue mean show insist than is was are were"
    " found find clear likely sure possible")
# Words that may open a sentence before its subject without naming anyone: "Now they say…", "Should he win…"
_OPENERS = _words(
    "now should if when as after before while though although since once yesterday today tonight earlier later"
    " here had were did only even in on at for during with without speaking asked writing last next monday tuesday"
    " wednesday thursday friday saturday sunday january february march april may june july august september"
    " october november december")
_PERSONS = _words("he she they")
# "Other nominees include…", "Fellow shareholders have…", "Among other British talent…", "In another change…"
_OTHERS = _words("other another fellow")
_ADDITIVE = re.compile(r"\balso\b")  # "… have also expressed doubts": a second thing, after a first one
_ADDITIVE_END = re.compile(r"\b(?:too|as well)[.!?”\"']*$")
_GROUP_NOUN = re.compile(r"\bthe (?:trio|pair|duo|latter)\b", re.IGNORECASE)  # whoever was named before
# "hopes this will lead…": a demonstrative standing for something said before
_DEMONSTRATIVE_SUBJECT = re.compile(r"\b(?:this|these|those)\s+(?:is|was|are|were|will|would|has|had|have|could|"
                                    r"can|may|might|should|must|means|meant)\b", re.IGNORECASE)
# first person outside quotation marks: a reader's comment or a speaker's unquoted words, nothing reported
_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|I'd|I'll|I’m|I’ve|We|we|our|Our|us|my|My|me)\b")
_QUOTED_SPAN = re.compile(r"“[^”]*”|\"[^\"]*\"")

# Single words the quote finder can take for a speaker that name nobody in particular.
GENERIC_SPEAKERS = _words(
    "statement board government police officials official spokesman spokeswoman spokesperson source sources"
    " report reports committee council court ministry department club company firm group union management"
    " party campaign team side agency authorities authority sources analysts experts critics fans"
    " insiders observers residents witnesses ministers aides officers prosecutors lawyers judge jury"
    " statement's letter document paper newspaper website")


def leads_with_reference(text: str) -> bool:
    """True when a sentence cannot be read on its own: it opens with a pronoun, a leaning connective or
    "the firm", or it points back with "that account" / "this move"."""
    words = tokens(text.lstrip("“\"'‘—–- "), numbers=False)
    if not words:
        return False
    first = words[0].lower().replace("’", "'")
    if first in _PRONOUNS and not (len(words) > 1 and words[1].lower() in _TIME_NOUNS):
        return True
    if first in _CONNECTIVES or first in _OTHERS:
        return True
    if len(words) > 1 and words[1].lower() in _OTHERS and first in _OPENERS | _words("among"):
        return True
    if _person_before_a_name(text, words) or _ADDITIVE.search(" ".join(words[:8])):
        return True
    if _ADDITIVE_END.search(text.rstrip()) or _group_named_before(text) or _DEMONSTRATIVE_SUBJECT.search(text):
        return True
    if first == "the" and len(words) > 1 and not (len(words) > 2 and words[2][:1].isupper()):
        head = words[1].lower()
        if head in _ANAPHORIC_HEADS or _someone_described(words[1], words[2] if len(words) > 2 else ""):
            return True
    if first == "the" and _described_subject(words):
        return True
    for m in _DEMONSTRATIVE.finditer(text):
        noun = m.group(1).lower()
        if noun in _TIME_NOUNS or noun in _NOT_A_NOUN:
            continue
        if m.group(0).lower().startswith("that") and (noun not in _BACK_NOUNS
                                                       or not _points_back_with_that(text, m.start())):
            continue  # "an event that showed…" is a relative clause
        return True
    return False


# two or more names listed ("Vell and Okafor", "Kenteris, Thanou and Tzekos"): whom "the pair" may stand for
_LISTED_NAMES = re.compile(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*(?:,\s+[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*)*,?"
                           r"\s+(?:and|&)\s+[A-Z][\w'’-]*")


def _group_named_before(text: str) -> bool:
    """"the pair", "the trio", "the latter" standing for people an earlier sentence names: not when this sentence
    lists them before it ("The feud between Vell and Okafor ended when the pair shook hands"; "The Greek
    Federation (SEGAS) would convene a hearing for the trio" still leans on the sentence before)."""
    return any(not _LISTED_NAMES.search(text[:m.start()]) for m in _GROUP_NOUN.finditer(text))


def _described_subject(words: list[str]) -> bool:
    """"The former Olympic champion was banned …", "The world number seven is tied …", "The Labour leader said
    …": a subject of a few words describing a person named before (its last word a kind of person, or "world
    number …"), followed by its verb."""
    for k in range(2, min(len(words), 6)):
        after = words[k].lower()
        if after not in _AFTER_SUBJECT:
            continue
        if k == 2:
            return False  # one word: "The police said …" (_someone_described reads that case)
        phrase = [w.lower() for w in words[1:k]]
        if " ".join(phrase[:2]) in ("world number", "world no"):
            return True
        return _someone_described(words[k - 1], after) and not any(w in _TIME_NOUNS for w in phrase)
    return False


def _someone_described(head: str, after: str) -> bool:
    """"The teenager has …", "The Italian was …", "The singer's album …", "The 25-year-old …": a person told by
    what they are, who was named before (not "The Pope", a title WordNet writes in lower case; not "The Italian
    government", where the word describes the noun after it)."""
    word = head.replace("’", "'")
    possessive = word.lower().endswith("'s")
    word = word[:-2] if possessive else word
    if word.lower() == "year-old":
        return True
    wn = wordnet.shared()
    if wn is None or not wn.names_a_person(word.lower()):
        return False
    if word[:1].isupper() and wn.is_common_word(word.lower()):
        return False  # "The Queen", "The Pope": a title that names one person
    # what follows says whether it is the subject: a verb ("has", "was sent off", "spent") or its possessive
    return possessive or not after or bool(wn.base_forms(after.lower(), "v")) and not wn.base_forms(after.lower(), "n")\
        or after.lower() in _AFTER_SUBJECT


def _person_before_a_name(text: str, words: list[str]) -> bool:
    """'Now they say…', 'Should he win…', 'In what the party had hoped…, he is due…': a person's pronoun before
    the sentence names anyone, so who it is lies in an earlier sentence."""
    for i, w in enumerate(words[:4]):
        if w.lower() in _PERSONS:
            return i > 0 and all(x.lower() in _OPENERS for x in words[:i])
        if w.lower() not in _OPENERS:
            break
    head, comma, rest = text.partition(",")
    after = tokens(rest, numbers=False)[:1]
    return bool(comma and len(head) <= 120 and after and after[0].lower() in _PERSONS
                and not any(w[:1].isupper() and w.lower() not in _OPENERS for w in tokens(head, numbers=False)[1:]))


def reported(text: str) -> bool:
    """Whether a sentence states something as reported: not first-person words or an exclamation outside quotation
    marks (a reader's comment, a speaker's unquoted words), not a list of names (a team line-up)."""
    bare = _QUOTED_SPAN.sub("", text)
    if _FIRST_PERSON.search(bare) or "!" in bare:  # news reports exclaim only in quotation marks
        return False
    words = tokens(text, numbers=False)
    listed = text.count(",") + text.count(";") >= 6
    return not (listed and sum(1 for w in words if w[:1].isupper()) >= 0.6 * len(words))


def names_someone(text: str) -> bool:
    """Whether a sentence names someone or something (a capitalised word after its first): what a pronoun or
    "the trio" in the sentence after it can stand for."""
    return any(w[:1].isupper() and w != "I" for w in tokens(text, numbers=False)[1:])


def _points_back_with_that(text: str, at: int) -> bool:
    """'disputed that account' points back; 'said that workers…' is a clause, not a reference."""
    before = tokens(text[max(0, at - 30):at], numbers=False)
    if not before:
        return True
    return before[-1].lower() not in _CLAUSE_WORDS


def named_speaker(name: str | None) -> bool:
    """A speaker a brief may show: a person's or an organisation's name, never a generic word
    ("statement", "board") or a description ("ex-Reds assistant boss")."""
    if not name or not valid_speaker(name):
        return False
    words = name.split()
    lowered = [w.lower().strip(".,’'") for w in words]
    if len(words) == 1 and lowered[0] in GENERIC_SPEAKERS:
        return False
    particles = {"de", "da", "van", "von", "der", "den", "del", "la", "le", "bin", "al", "of", "the", "and", "&",
                 "di", "du", "dos", "das", "ibn", "y", "for"}
    # every word of a name is capitalised (or a particle); a lower-case word makes it a description
    if any(not (w[:1].isupper() or w[:1].isdigit() or w.lower() in particles) for w in words):
        return False
    # "Union Board" names nobody; "Aldmere Dockworkers' Union" does
    return not all(w in GENERIC_SPEAKERS or w in particles for w in lowered)


# the last word of an organisation's name: "Rugby Board", "Shareholders United", "Aldmere Dockworkers' Union"
_ORGANISATION_ENDS = _words(
    "board union united party council group bank association federation club committee ministry department company"
    " corporation plc ltd inc agency office court commission authority institute trust foundation society league"
    " fund exchange tories")
_I = re.compile(r"\b(?:I|I'm|I've|I'd|I'll|I’m|I’ve|I’d|I’ll|me|my)\b")


def person_words_from_an_organisation(speaker: str, text: str) -> bool:
    """'Rugby Board: "I thought I'd burned all my bridges…"': an organisation does not speak as "I"; the quote
    finder took the wrong name for its speaker."""
    last = speaker.split()[-1].lower().strip(".,’'") if speaker.split() else ""
    return last in _ORGANISATION_ENDS and bool(_I.search(text))


def speaker_name(name: str | None) -> str | None:
    """The name a brief shows for a quote's speaker: "skipper Dan Horak" is Dan Horak; None when the
    speaker is no name at all."""
    if not name:
        return None
    words = name.split()
    while words and words[0][:1].islower():
        words.pop(0)  # a description before the name
    shown = " ".join(words)
    return shown if named_speaker(shown) else None


def web_site(*locations: str | None) -> str:
    """The web site of the first web address among these ("www.example.com/a" -> "example.com"); '' for local
    files, whose names are no outlet's."""
    for loc in locations:
        if loc and "://" in loc and not loc.startswith("file:"):
            host = urlsplit(loc).hostname or ""
            if host:
                return host.removeprefix("www.")
    return ""


def outlet_name(d: Document, names: dict[str, str] | None = None) -> str:
    """How a brief names a document's outlet: the name the operator set, the outlet (site name or feed
    title), the web site, else the article's headline — never a file name."""
    if names:
        for prefix, name in names.items():
            if d.location.startswith(prefix):
                return name
    if d.outlet:
        return d.outlet
    if host := web_site(d.url, d.location):
        return host
    title = (d.title or "").strip()
    return f"“{title[:70].rstrip()}{'…' if len(title) > 70 else ''}”" if title else "an untitled article"


def outlet_key(d: Document) -> str:
    """What makes two documents different outlets (two files without an outlet are two reports)."""
    if d.outlet:
        return d.outlet.casefold()
    for loc in (d.url, d.location):
        if loc and "://" in loc and not loc.startswith("file:"):
            return (urlsplit(loc).hostname or loc).removeprefix("www.")
    return f"doc:{d.id}"


def number_by_document(sb: StoryBrief) -> StoryBrief:
    """One citation number per source document, numbered in the order the brief first cites them
    (points, then quotes, then differences)."""
    order: dict[int, int] = {}

    def renumber(cites: Iterable[Citation]) -> None:
        for c in cites:
            c.n = order.setdefault(c.doc_id, len(order) + 1)

    for k in sb.key_points:
        renumber(k.citations)
    renumber(q.citation for q in sb.quotes)
    for d in sb.differences:
        for s in d.sides:
            renumber(s.citations)
    return sb


def narrates(speaker: str, text: str) -> bool:
    """Whether a quotation speaks of its own speaker in the third person by surname ("McClaren's only criticism of
    his side was …", "… said McClaren"): a closing mark the source left out, so the reporter's words ran into the
    quote; shown as the speaker's words, they would misquote them."""
    words = [w for w in re.findall(r"[A-Za-z][\w'’-]+", speaker or "") if w[:1].isupper()]
    if len(words) < 2:
        return False  # a body speaks of itself by name ("GM's goal", "Labour's targets"); a person by full name
    surname = re.escape(words[-1].rstrip("'’s"))
    return bool(re.search(rf"\b{surname}(?:['’]s\b|,? (?:said|says|added|adds|told|tells|insisted|explained)\b)|"
                          rf"\b(?:said|says|added|adds|told) (?:Mr |Mrs |Ms |Dr )?{surname}\b", text))
