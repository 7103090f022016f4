"""Question analysis: what a question asks (its intent), about whom and what, computed once.

Pure text functions; no store, no network. Names the store knows are passed in as a lexicon, so
"navaro" is recognised as Navarro without trusting capital letters.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from bot.text import FILLERS, STOPWORDS, WORD, YEAR, content_terms, stem

# chat spellings -> words, applied to whole tokens before anything else
CHAT_WORDS = {"r": "are", "u": "you", "ur": "your", "wat": "what", "wut": "what", "wot": "what", "wen": "when",
              "whn": "when", "whats": "what is", "wats": "what is", "hows": "how is", "whos": "who is",
              "wheres": "where is", "whens": "when is", "whys": "why is", "n": "and", "abt": "about",
              "bc": "because", "cuz": "because", "coz": "because", "pls": "please", "plz": "please",
              "thx": "thanks", "ty": "thanks", "tho": "though", "govt": "government", "gonna": "going to",
              "wanna": "want to", "dunno": "don't know", "y": "why", "w/": "with", "b4": "before", "2day": "today",
              "im": "i am", "dont": "don't", "didnt": "didn't", "doesnt": "doesn't", "isnt": "isn't", "wasnt": "wasn't",
              "wont": "won't", "cant": "can't", "pres": "president", "vs": "versus", "thru": "through",
              "outta": "out of", "gotta": "got to", "kinda": "kind of", "sorta": "sort of", "lotta": "lot of",
              "lemme": "let me", "gimme": "give me", "ya": "you", "yr": "year", "yrs": "years", "bout": "about",
              "shoulda": "should have", "coulda": "could have", "woulda": "would have", "alot": "a lot",
              "becuz": "because", "cos": "because", "ppl": "people", "diff": "different", "convo": "conversation",
              "smth": "something", "sth": "something",
              "rn": "right now", "w/o": "without", "werent": "weren't", "arent": "aren't",
              "havent": "haven't", "hasnt": "hasn't", "hadnt": "hadn't", "wouldnt": "wouldn't",
              "couldnt": "couldn't", "shouldnt": "shouldn't", "tmrw": "tomorrow", "tmw": "tomorrow",
              "yday": "yesterday", "bday": "birthday", "approx": "approximately", "abt.": "about"}
# the question words themselves, for typo repair ("wht", "whta", "summarise")
_INTENT_VOCAB = ["what", "when", "where", "which", "who", "whom", "whose", "why", "how", "summarize", "summarise",
                 "summary", "gist", "recap", "overview"]

_QUOTED = re.compile(r"(?:(?<=\s)|^)[\"“‘'«]([^\"”’'»]{2,160})[\"”’'»](?=\W|$)")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_NAME_RUN = re.compile(r"\b[A-Z][\w’'\-.]*(?:\s+(?:[A-Z][\w’'\-.]*|(?:de|van|von|bin|al|da|di|del|le|la)\b))*")
_TITLES = re.compile(r"^(?:(?:the|us|u\.s\.|uk|former|chinese|russian|american|british|french|japanese|korean|"
                     r"north korean|south korean|indian)\s+)*(?:president|prime minister|premier|chancellor|minister|"
                     r"foreign minister|secretary|leader|chairman|chief|ceo|director|general|senator|sen\.?|rep\.?|"
                     r"gov\.?|governor|mayor|king|queen|pope|mr|mrs|ms|dr|lord|lady|sir)\.?\s+", re.I)

# words that name roles and bodies, not people: never a name on their own
ROLE_WORDS = frozenset(["government", "ministry", "minister", "president", "prime", "party", "council", "office",
                        "police", "department", "committee", "board", "union", "agency", "court", "army", "state",
                        "national", "federal", "chief", "secretary", "spokesman", "spokeswoman", "spokesperson",
                        "officials", "official", "foreign", "general", "director", "leader", "chairman", "lord",
                        "lady", "sir", "senator", "governor", "mayor", "king", "queen", "prince", "princess",
                        "deputy", "former", "news", "agency", "house", "white", "north", "south", "east", "west",
                        "new", "united", "royal", "labour", "conservative", "liberal", "democrats", "republican",
                        "democratic", "people", "group", "company", "bank", "university", "institute", "center",
                        "centre", "times", "post", "daily", "ministry's", "service", "services", "association"])

# -- intents -------------------------------------------------------------------------------
_HELP = re.compile(r"^(?:help|\?+|commands|usage|what can you do|what do you do|how do (?:i|you) use (?:you|this|it)|"
                   r"how does this work|who are you|what are you)\W*$")
_SMALLTALK = re.compile(r"^(?:(?:hi|hello|hey|yo|hiya|howdy|thanks|thank you|thank u|thanks a lot|many thanks|"
                        r"cheers|great|cool|nice|awesome|perfect|ok|okay|got it|good bot|bad bot|lol|haha|bye|"
                        r"goodbye|good (?:morning|afternoon|evening|night)|morning|gm|sup|what'?s up|how are you|"
                        r"appreciate it|no worries|np)(?:\s+(?:there|bot|briefbot|so much|a lot|again|mate|all|"
                        r"guys|everyone|folks))*)\W*$")
_SUMMARY = re.compile(r"\b(?:summari[sz]e|summary|sum (?:it )?up|sum up|gist|recap|catch (?:me|us) up|overview|"
                      r"tl;?dr|rundown|run-down|brief me|low-?down|what'?s the story|what is the story|"
                      r"what'?s going on|what is going on|what'?s happening|what is happening|any (?:news|update|"
                      r"updates|word) (?:on|about)|latest (?:on|about)|quick history|history of|background on|"
                      r"the big picture|in a nutshell|main points|key points|fill me in|what'?s the deal with|what is the deal with|"
                      r"what'?s up with|what is up with|what'?s new (?:with|on|at|in)|what'?s the latest)\b")
# "what's the welsh arts row about?": what a story is about is its gist
_ABOUT = re.compile(r"^what(?:'?s| is| was| are| were)\s+(?:the|this|that|these|those|all this|all that)\b.{1,80}?\s"
                    r"about\W*$")
_COVERAGE = r"(?:articles|reports|outlets|sources|papers|stories|pieces|accounts|coverage|media|newspapers|write-?ups)"
_SOME = r"(?:[\w'’-]+ ){0,4}"  # "the two Jet Airways share-sale reports": a few words naming which
_MULTI = re.compile(r"\b(?:(?:which|what) (?:of the )?(?:\w+ )?(?:outlets|papers|newspapers|agencies|sources|articles|"
                    r"reports|media|publications|coverage|pieces)|(?:do|did|does) (?:the )?" + _SOME + _COVERAGE +
                    r" (?:agree|differ|disagree|think|say|see)|how (?:do|does|did) (?:the )?" + _SOME + _COVERAGE +
                    r" (?:differ|compare|disagree|agree|vary|see|describe|cover|treat)|" + _COVERAGE +
                    # "the reports don't seem to agree", "the papers don't match", "conflicting reports"
                    r" (?:(?:do|does|did)(?:n't|n’t|nt| not) )?(?:seem to |appear to )?(?:differ|disagree|agree|match|"
                    r"tally|conflict|contradict)|"
                    # "the reports dont give the same number", "the papers don't say the same thing"
                    + _COVERAGE + r" (?:(?:do|does|did)(?:n't|n’t|nt| not) )?(?:give|say|have|quote|report|use|put) "
                    r"(?:the )?(?:same|different|other)|conflicting " + _COVERAGE + r"|across (?:the )?" + _SOME +
                    _COVERAGE + r"|(?:going|judging) by (?:the )?" + _SOME +
                    _COVERAGE + r"|the (?:\w+ )?" + _COVERAGE + r" (?:quote|cite|mention|bring up|name|use|call)|"
                    r"(?:differ|difference|differences|"
                    r"disagree|contradict)\w*|"
                    # "what labels do the various summit pieces pin on them?": the articles themselves are asked about
                    r"(?:the|these|those|both|all) (?:two |three |several |different |various |other )" + _SOME +
                    _COVERAGE + r")\b")
_ASKS_OUTLETS = re.compile(r"\b(?:which|what) (?:\w+ )?(?:outlets|agencies|agency|papers|newspapers|media|wires?|"
                          r"broadcasters|networks)\b.*\b(?:cite|cited|quote|quoted|rely|relied|lean|source|sourced|"
                          r"credit|credited|name|named|mention|mentioned|use|used)|\b(?:lean|rely|draw) on (?:which|what)")
_REPORTS = re.compile(r"\b(?:report\w*|sa(?:y|ys|id)|broke|break|cover\w*|ran|run|carr(?:y|ied|ies)|quot\w+|cit\w+|"
                      r"interview\w*|publish\w*|print\w*|claim\w*|reveal\w*|first|story|news|source\w*|talk\w*|"
                      r"spoke|speak\w*|told|tell\w*|wrote|writ\w*|credit\w*|get|got|learn\w*|that|this|it)\b")
_ASKS_OUTLET = re.compile(r"^(?:which|what|who)(?: \w+)? (?:paper|newspaper|agency|outlet|channel|network|broadcaster|"
                         r"site|website|magazine|wire|station|publication|tabloid)s?\b")
_WHY = re.compile(r"^(?:why|how come|what(?: is|'s| was|'s been)? the reasons? (?:for|behind|why)|for what reason|"
                  r"what (?:made|makes|caused|causes|led|drove|drives))\b")
_HOW = re.compile(r"^how (?!many|much|long|far|big|large|often|old|tall|soon|fast|high|deep)\w+\b(?! (?:[\w'’-]+ ){0,4}"
                  # "how did Tokyo react?" asks for a reaction, not a means
                  r"(?:react|reacted|respond|responded|feel|felt|view|viewed|see|saw|regard|regarded|take|took|"
                  r"receive|received|greet|greeted|reply|replied|rate|rated|judge|judged|assess|assessed|describe|"
                  r"described|characteri[sz]e|characteri[sz]ed|answer|answered)\b)")
_WHEN = re.compile(r"^(?:when|what (?:year|date|day|month|time)|since when|by when|how long ago)\b")
_QUANTITY = (r"percentage|share|number|amount|prices?|costs?|size|proportion|(?:pay |wage |price )?(?:raise|rise|"
             r"increase|cut)|wages?|salary|fees?|fines?|sum|figures?|total|rates?|score|margin|majority|budget|bill|"
             r"tariffs?|turnout|death toll|toll|population|capacity|stake|valuation|fares?|odds")
_HOW_MANY = re.compile(rf"^(?:how (?:many|much|long|far|big|large|often|old|tall|fast|high|deep)|(?:what|which) (?:kind of )?"
                       rf"(?:{_QUANTITY})|what'?s the (?:{_QUANTITY})|what (?:is|was|are|were) the (?:{_QUANTITY}))\b")
_WHERE = re.compile(r"^where\b")
_ORDINAL_Q = re.compile(r"^(?:what|which) number\b(?! of\b)")
# "what will the tram cost?", "what did the painting fetch?": a sum of money, asked without "how much"
_WHAT_COST = re.compile(r"^what\b(?!.*\b(?:say|says|said|think|thinks|thought|about|of)\b).*\b(?:cost|costs|charge|charges|fetch|fetched|earn|earns|pay|pays)"
                        r"(?: (?:them|him|her|it|us|you|taxpayers|the \w+))?(?: in total| a year| a month| each)?$")
# "what's the minimum wage going up to?", "what is the rate being cut to?": the level a quantity moves to, a figure
_WHAT_LEVEL = re.compile(r"^what(?:'s| is| was| will| would)\s+(?P<what>.+?)\s+(?:be\s+)?(?:going (?:up|down) to|"
                         r"(?:set|due|expected|going) to (?:rise|fall|go up|go down|increase|drop) to|"
                         r"(?:being |be )?(?:raised|cut|increased|reduced|lowered|lifted) to|"
                         r"(?:rising|falling|climbing|dropping|increasing) to)\b")
_HOW_MANY_OF = re.compile(r"^how many (?:of (?:the |their |his |her |its |these |those )?)?(.+)")
# where "how many carry on films was she in" stops naming what it counts
_COUNT_END = frozenset(["is", "are", "was", "were", "be", "been", "do", "does", "did", "have", "has", "had", "will",
                        "would", "can", "could", "should", "shall", "may", "might", "r", "who", "that", "which",
                        "whose", "whom", "where", "when",
                        # adverbs before the verb: "how many ppl even live there", "how many actually voted"
                        "even", "actually", "really", "still", "ever", "now", "currently", "already", "roughly"])
_CURRENCIES = frozenset(stem(w) for w in ("dollars", "pounds", "euros", "yen", "yuan", "rupees", "francs", "roubles",
                                             "rubles", "pence", "cents", "quid", "bucks"))
_TIME_UNITS = ("second", "minute", "hour", "day", "week", "fortnight", "month", "year", "decade", "century")


# "what's the film he is making called?", "what is the name of the studio?"
_CALLED = re.compile(r"^what(?:'s| is| was| are| were| will be)\s+(?:.+\s+called|the (?:name|title) of\b.*)$")
# heads too general to say what kind of thing answers ("which way", "what part", "what kind")
_GENERAL_KINDS = frozenset(["thing", "things", "kind", "kinds", "type", "types", "sort", "sorts", "way", "ways", "part",
                            "parts", "one", "ones", "time", "times", "year", "years", "day", "days", "number", "lot",
                            "bit", "reason", "reasons", "point", "points", "stuff", "happened", "else"])


def _kind_asked(low: str) -> str | None:
    """The noun a "which/what NOUN did …" question asks for a kind of ("which relative did he have executed?":
    relative), lower case; None for other questions and for nouns too general to tell anything."""
    m = _WHICH_NOUN.match(low)
    if m is None:
        return None
    head = m.group(1).split()[-1].strip("'")
    if not head.isalpha() or head in _GENERAL_KINDS or head in STOPWORDS:
        return None
    return head


def _counted(low: str) -> tuple[str, ...]:
    """What a count question counts, as stems: "how many carry on films was she in" -> carri, film; "how long
    did it take" -> the units of time; () for other questions."""
    m = _HOW_MANY_OF.match(low)
    if m:
        words = []
        for w in m.group(1).split():
            w = CHAT_WORDS.get(w, w)  # "how many ppl live there": people
            if w in _COUNT_END:
                break
            words.append(w)
        return tuple(stem(w) for w in content_terms(" ".join(words)))[:2]
    if low.startswith("how long") and not low.startswith("how long ago"):
        return tuple(stem(u) for u in _TIME_UNITS)
    return ()
_EVENT = re.compile(r"^(?:so )?what(?:'s| has| had| is)? (?:happened|happening|happens|became|came) (?:to|with|of|at|in)\b")
_WHO_FACT = re.compile(r"^(?:who|whom|whose)\b")
_MONEY_WORDS = re.compile(r"\b(?:cost|price|pay|paid|spen[dt]|worth|budget|fund|charg|fee|fine|bill|salar|wage|sell|sold|"
                          r"buy|bought|raise|invest|money|cash|earn|profit|revenue)\w*")
# "how much did consumer spending go up?", "how much has the price risen?": a change, told as a share ("1.5%") as
# often as an amount, whatever it is a change of
_CHANGE = re.compile(r"\b(?:go(?:ne)? (?:up|down)|went (?:up|down)|going (?:up|down)|ris(?:e|es|en|ing)|rose|"
                     r"increas\w*|f[ae]ll(?:s|en|ing)?|drop\w*|gr[eo]w(?:s|n|ing)?|climb\w*|jump\w*|surg\w*|slump\w*|"
                     r"declin\w*|shr[iau]nk\w*|expand\w*|soar\w*|plung\w*|tumbl\w*|slid(?:e|es|ing)?)\b")
_SPEECH_VERB = (r"(?:say|says|said|saying|tell|told|call|called|calls|calling|describe|described|describes|warn|warned|"
                r"warns|claim|claimed|claims|declare|declared|state|stated|note|noted|argue|argued|argues|insist|"
                r"insisted|insists|greet|greeted|bill|billed|dub|dubbed|label|labelled|labeled|brand|branded|term|"
                r"termed|coin|coined|praise|praised|criticise|criticised|criticize|criticized|accuse|accused|"
                r"compare|compared|talk|talked|talks|speak|spoke|speaks|mention|mentioned|quip|quipped|joke|joked|"
                r"suggest|suggested|predict|predicted|promise|promised|vow|vowed|admit|admitted|deny|denied|"
                r"refer|referred|keep saying|keeps saying|came up with|come up with|wrote|write|writes|tweet|tweeted|"
                r"complain|complained|complains|object|objected|protest|protested|slam|slammed|slams|attack|attacked|"
                r"condemn|condemned|hit out|blast|blasted|brand|dismiss|dismissed|defend|defended|urge|urged|"
                r"demand|demanded|predict|vowed|pledge|pledged|apologise|apologised|apologize|apologized)")
_WHO_SAID = re.compile(r"^who(?: else)?\s+(?:\w+\s+){0,1}" + _SPEECH_VERB + r"\b\s*(?P<topic>.*)$")
_QUOTE_PATTERNS = [
    # ("what's robertson saying about the pitch": "what's" is "what is" or "what has")
    re.compile(r"^(?:(?:what|which)\s+(?:did|does|has|have|had|do|is|was)\s+|what['’]s\s+)(?P<who>.+?)\s+(?:\w+ly\s+)?"
               r"(?:say|said|saying|tell|told|think|thought|write|wrote|claim|claimed|argue|argued|warn|warned|"
               r"declare|declared|state|stated|note|noted|make|made|feel|felt|reckon|tweet|tweeted|"
               r"have to say|had to say|got to say)"
               r"(?:\s+(?:about|of|on|regarding|concerning|to|in|at|re)\s+(?P<topic>.+?))?\s*$"),
    re.compile(r"^how\s+(?:did|does|has|have|do|is|was)\s+(?P<who>.+?)\s+"
               r"(?:describe|characteri[sz]e|see|view|call|react|reacted|reacting|respond|responded|feel|take|"
               r"comment|commented)"
               r"(?:\s+(?:to|about|on|at)?\s*(?P<topic>.+?))?\s*$"),
    re.compile(r"^(?:what (?:is|was|are|were) |what'?s |any(?:thing)? )?(?P<who>.+?)'s?\s+"
               r"(?:comments?|remarks?|words?|statements?|reaction|response|view|views|take|quotes?|position|"
               r"stance|opinion)"
               r"(?:\s+(?:about|on|to|regarding|re)\s+(?P<topic>.+?))?\s*$"),
    re.compile(r"^(?:any |the )?(?:quotes?|statements?|comments?|remarks?|words?)\s+(?:from|by)\s+(?P<who>.+?)"
               r"(?:\s+(?:about|on|regarding|re)\s+(?P<topic>.+?))?\s*$"),
    re.compile(r"^did\s+(?P<who>.+?)\s+(?:say|comment|speak|talk)\s+(?:anything|something)?\s*"
               r"(?:about|on|regarding|re)?\s*(?P<topic>.*?)\s*$"),
]
# "which tory mp has ...", "what striker did ...": the words before the verb name what is asked for
_WHICH_NOUN = re.compile(r"^(?:which|what)\s+((?:[\w'-]+\s+){0,2}?[\w'-]+)\s+(?:has|have|had|is|was|are|were|did|does|"
                         r"do|will|would|could|can|should|may|might|won|lost|scored|said|says)\b")
# "which embassies …", "what countries …": several things, named
_WHICH_PLURAL = re.compile(r"^(?:which|what)\s+(?:[\w'-]+\s+)?([a-z'-]{3,}[^s\W]s)\b(?!\s+of\b)")
# "what odds …", "which speed …": the noun says what kind of answer is asked for
_WHAT_NOUN = re.compile(r"^(?:what|which)\s+([a-z]+)\b")
_NOT_LISTED = frozenset(["years", "days", "months", "weeks", "hours", "minutes", "times", "ways", "reasons", "means",
                         "news", "chances", "odds", "terms", "lengths", "lyrics", "consequences", "costs", "results"])
_WHO_IS = re.compile(r"^(?:who|what)\s+(?:is|was|are|were|'s)\s+(?P<who>.+?)\s*$|^who'?s\s+(?P<who2>.+?)\s*$")
# ("what did he actually do?" asks what he did, not his job: "what does he do?" does)
_ROLE_OF = re.compile(r"^(?:what'?s|what is|what was|what does)\s+(?P<who>.+?)(?:'s)?\s+"
                      r"(?:job|role|title|position|post|do for a living|do|work as|background)\s*$|"
                      r"^what did\s+(?P<who5>.+?)(?:'s)?\s+(?:job|role|title|position|post|do for a living|work as|"
                      r"background)\s*$|"
                      r"^where\s+(?:does|did|do)\s+(?P<who2>.+?)\s+work\s*$|"
                      r"^(?:tell me|more)?\s*(?:more\s+)?about\s+(?P<who3>.+?)'s?\s+(?:background|job|career|role)\s*$|"
                      r"^(?P<who4>[^ ].+?)'s?\s+(?:background|career|biography|bio|job|role|past|history)\s*$")

INTENTS = ("quote", "who_said", "who_is", "fact", "why", "summary", "multi", "help", "smalltalk")


@dataclass(frozen=True)
class Query:
    """What a question asks for: computed once, read by every later stage, never changed."""

    text: str  # as asked
    kind: str  # one of INTENTS
    clean: str = ""  # normalised: chat words expanded, fillers dropped
    speaker: str | None = None
    topic: str | None = None
    answer_type: str | None = None  # when | number | money | age | where | who | why | how | event | outlets | None
    terms: tuple[str, ...] = ()  # content words, lower case, in order
    names: tuple[str, ...] = ()  # names the question is about (each must be in the answer's article)
    phrases: tuple[str, ...] = ()  # quoted phrases
    years: tuple[str, ...] = ()  # years and numbers the answer must hold
    counted: tuple[str, ...] = ()  # stems of what "how many …" / "how long" counts ("films", or units of time)
    kind_asked: str | None = None  # "which relative did he execute?": the answer names a kind of relative
    context: tuple[str, ...] = ()  # words carried over from earlier turns (lower weight)
    notes: tuple[str, ...] = field(default=())  # how the question was read, for logs and not-found replies

    @property
    def topic_terms(self) -> list[str]:
        return content_terms(self.topic) if self.topic else []


def normalise(question: str) -> str:
    """Chat spellings expanded, fillers at the start dropped, spacing and apostrophes unified; case kept."""
    q = question.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    q = re.sub(r"[\u200b-\u200f\ufe0f]", "", q)  # zero-width and emoji variation selectors
    q = re.sub(r"\s+", " ", q).strip()
    out: list[str] = []
    for tok in q.split(" "):
        core = tok.strip("?!.,;:")
        low = core.lower()
        if low.endswith("'s") and low[:-2] in CHAT_WORDS and low[:-2] not in {"u", "r", "n", "y"}:
            tok = tok.replace(core, CHAT_WORDS[low[:-2]] + " is", 1)
        elif low in CHAT_WORDS and not (core[:1].isupper() and len(core) <= 2 and core.isupper()):
            rep = CHAT_WORDS[low]
            tok = tok.replace(core, rep if not core[:1].isupper() else rep.capitalize(), 1)
        elif (low not in FILLERS and low not in _KNOWN_QWORDS and 3 <= len(low) <= 9 and low.isalpha()
              and all(o.strip("?!.,;:").lower() in FILLERS for o in out)):  # the first word after any fillers
            fixed = _fix_question_word(low)
            if fixed != low:
                tok = tok.replace(core, fixed, 1)
        out.append(tok)
    # fillers at the start ("wait", "yo", "lol ok so") and "lol" anywhere
    while out and out[0].strip("?!.,;:").lower() in FILLERS and len(out) > 1:
        out.pop(0)
    out = [t for t in out if t.strip("?!.,;:").lower() not in {"lol", "lmao", "rofl", "haha", "pls", "plz", "please"}]
    text = " ".join(out).strip()
    text = re.sub(r"\?{2,}|!{2,}", "?", text)
    return text


_KNOWN_QWORDS = frozenset(_INTENT_VOCAB) | STOPWORDS


@lru_cache(maxsize=10_000)
def _fix_question_word(word: str) -> str:
    """A misspelt question word at the start ('wht', 'whta', 'summarise') -> the word; else unchanged."""
    best = difflib.get_close_matches(word, _INTENT_VOCAB, n=1, cutoff=0.75)
    return best[0] if best and word[:1] == best[0][:1] else word


def strip_title(name: str) -> str:
    """'President Xi Jinping' -> 'Xi Jinping'; 'the senator' stays (no name follows)."""
    prev = None
    while prev != name:
        prev = name
        stripped = _TITLES.sub("", name).strip()
        name = stripped if stripped else name
    return name


class NameLexicon:
    """The names a store knows (speakers and their words), for recognising names in any case and with typos."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.full: dict[str, str] = {}  # casefolded full name -> name
        self.words: dict[str, str] = {}  # casefolded name word (3+ letters) -> a full name holding it
        for n in names:
            n = (n or "").strip()
            if not n or len(n) > 80:
                continue
            self.full.setdefault(n.casefold(), n)
            caps = [w.strip(".,'’") for w in n.split() if w[:1].isupper()]
            if len(caps) < 2:
                continue  # "Lawmakers", "Government": a one-word speaker is no proof that a word is a name
            for w in caps:
                if len(w) >= 3 and w.casefold() not in STOPWORDS and w.casefold() not in ROLE_WORDS:
                    self.words.setdefault(w.casefold(), n)
        self._keys = sorted(self.words)

    def match_word(self, word: str, is_word: Callable[[str], bool] | None = None,
                   is_common: Callable[[str], bool] | None = None) -> str | None:
        """The known name word a question word is: exactly, or (for a word the articles never use) one or
        two typos away in a long word ("navaro" -> "navarro", but "spoke" is not "Spike")."""
        w = word.casefold().strip(".,'’")
        if len(w) < 3 or w in STOPWORDS:
            return None
        if w in self.words:
            # a word the articles use a lot ("run", "government") is a word, even if someone is called that
            return w if is_common is None or not is_common(w) else None
        if len(w) < 6 or (is_word is not None and is_word(w)):
            return None
        cands = [k for k in self._keys if k[:1] == w[:1] and abs(len(k) - len(w)) <= 2]
        best = difflib.get_close_matches(w, cands, n=1, cutoff=0.85 if len(w) < 8 else 0.8)
        return best[0] if best else None


# "Two BBC write-ups …": a count opening a run of capitals is not part of a name
_NUMBER_WORDS = frozenset(["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                           "twelve", "twenty", "hundred", "thousand", "million", "both", "several", "many", "most",
                           "few", "first", "second", "third", "last"])


def _names_in(original: str, lexicon: NameLexicon | None, drop: set[str] | frozenset[str],
              is_word: Callable[[str], bool] | None = None, is_common: Callable[[str], bool] | None = None,
              is_ordinary: Callable[[str], bool] | None = None) -> list[str]:
    """Names in a question: capitalised runs (not a question word opening it) and words the lexicon knows.
    A preposition or an ordinary participle opening the question is no name unless the lexicon knows it
    ("Across the stories on …", "Going by the reports …")."""
    names: list[str] = []
    for m in _NAME_RUN.finditer(original):
        run = m.group(0).strip(" .")
        run = re.sub(r"'s?$", "", run)
        words = run.split()
        # a capitalised question or chat word is not a name ("Summarize", "What", "Give", "Wait")
        while words and (words[0].lower() in STOPWORDS or words[0].lower() in FILLERS or words[0].lower() in drop
                         or words[0].lower() in _KNOWN_QWORDS or words[0].lower() in _NUMBER_WORDS):
            words.pop(0)
        if not words:
            continue
        if lexicon is not None and len(words) >= 3 and (known := _known_within(words, lexicon, is_common)):
            # "the 16 March Budget Gordon Brown gave": a stored name inside a run of capitals is that person; the
            # run's other words are a date or the store's common words ("Budget"), not part of a name no article
            # mentions
            names += known
            continue
        name = strip_title(" ".join(words))
        if m.start() == 0 and len(words) == 1 and lexicon is not None and lexicon.match_word(name) is None \
                and (name.lower() in _COMMON_OPENERS or _PARTICIPLE.match(original) and is_ordinary is not None
                     and is_ordinary(name)):
            continue
        names.append(name)
    if lexicon is not None:
        have = {w.casefold() for n in names for w in n.split()}
        # "gordon brown", typed in lower case: two or three words that together are a stored speaker's full name
        # are that person, even when each is a common word alone
        words = WORD.findall(original)
        for size in (3, 2):
            for i in range(len(words) - size + 1):
                seq = words[i:i + size]
                whole = lexicon.full.get(" ".join(seq).casefold())
                if whole and not {w.casefold() for w in seq} & have and len(whole.split()) == size:
                    names.append(whole)
                    have |= {w.casefold() for w in seq}
        for w in words:
            if w[:1].isupper() or w.casefold() in have:
                continue
            hit = lexicon.match_word(w, is_word, is_common)
            if hit and hit not in have:
                full = lexicon.words[hit]
                # "navaro" -> the stored spelling of that word, so retrieval and checks use it
                word = next((x.strip(".,'’") for x in full.split() if x.strip(".,'’").casefold() == hit), hit)
                names.append(word)
                have.add(hit)
    out: list[str] = []
    for n in names:
        if n and n not in out and n.lower() not in STOPWORDS:
            out.append(n)
    return out


def _known_within(words: list[str], lexicon: NameLexicon, is_common: Callable[[str], bool] | None) -> list[str]:
    """The longest stored full name inside a run of capitalised words, with the run's other words that are not
    common in the store (each a name of its own); [] when no stored name is inside or the run is one."""
    n = len(words)
    for size in range(n - 1, 1, -1):
        for i in range(n - size + 1):
            full = lexicon.full.get(" ".join(words[i:i + size]).casefold())
            if full:
                rest = [w for w in words[:i] + words[i + size:] if is_common is None or not is_common(w.lower())]
                return [full] + rest
    return []


_COMMON_OPENERS = frozenset(["give", "tell", "show", "list", "summarize", "summarise", "sum", "explain", "describe",
                             "catch", "any", "did", "does", "do", "is", "are", "was", "were", "has", "have", "can",
                             "could", "would", "will", "should", "and", "but", "also", "what", "who", "why", "how",
                             "when", "where", "which", "totally", "unrelated", "different", "new", "another",
                             "more", "other", "okay", "ok", "so", "now", "then", "next", "last", "recap", "gist",
                             "brief", "quick", "latest", "update", "news", "history", "background",
                             # prepositions that open a framing clause ("Across the stories on the sprinters, …")
                             "across", "among", "amongst", "around", "according", "following", "given", "despite",
                             "regarding", "concerning", "considering", "within", "without", "beyond", "since",
                             "like", "unlike", "per", "via", "toward", "towards", "amid", "amidst", "besides",
                             "beside", "inside", "outside", "throughout", "upon", "near", "behind", "from", "in",
                             "on", "for", "about", "after", "before", "between", "during", "over", "under"])
# "Going by the reports, …", "Judging from …", "Based on …": a participle opening a framing clause
_PARTICIPLE = re.compile(r"[A-Z][a-z]+(?:ing|ed) [a-z]")


def _speaker_like(who: str, original: str, lexicon: NameLexicon | None,
                  is_word: Callable[[str], bool] | None = None) -> str | None:
    """The speaker a quote question names, or None when the subject is not a person or body (`is_word`: whether
    a word is English, which no typo of a name is: "the organisers" are not "Serious Organised Crime")."""
    who = who.strip(" ?.,!\"")
    who = re.sub(r"^(?:the)\s+", "", who, flags=re.I)
    if not who or len(who) > 80:
        return None
    # "the union's general secretary Marta Quinlan": the name is the capitalised tail
    tail = re.search(r"(?:^|\s)[a-z][\w'\-]*\s+((?:[A-Z][\w'\-]*\s+)*[A-Z][\w'\-]*)$", who)
    if tail and not who.endswith("'s"):
        return tail.group(1)
    stripped = strip_title(who)
    if stripped[:1].isupper():
        return stripped
    if lexicon is not None:
        words = [lexicon.match_word(w, is_word) for w in stripped.split()]
        # a lower-case subject is a speaker only when every word of it is a known name ("navaro", "kim jong un")
        if words and all(words):
            return " ".join(next((x for x in lexicon.words[k].split() if x.casefold() == k), k)
                            if k else w for k, w in zip(words, stripped.split(), strict=True))
    # organisations and roles written in lower case still count ("japan's government", "russia's president")
    if re.search(r"\b(?:government|ministry|office|officials?|spokes\w+|president|minister|leader|police|"
                 r"party|union|company|department|agency|council|committee|board|army|military|court)\b", who, re.I):
        return who
    return None


# how a question opens; a message that opens otherwise may ask in a later clause
_ASKS = re.compile(r"^(?:how|who|whom|whose|when|where|why|what|which|wat|wen|is|are|was|were|do|does|did|can|could|"
                   r"will|would|has|have|had|should|tell|give|show|summari[sz]e|sum|catch|any|gist|tl|explain|list)\b")
# "going by the Aldmere report, who …": a frame naming where to look, read with the question as before
_FRAMING = re.compile(r"^(?:going by|judging by|according to|across|based on|from|in|on|about|re|regarding|as for|for|"
                      r"with|after|since|given)\b")
_LATER_QUESTION = re.compile(r"[,;:–—]\s+(?:(?:so|and|but|like|ok)\s+)?(?P<q>(?:how (?:many|much|long|old|come|did|do|does|"
                             r"is|was|are)|who|when|where|why|what|which)\b.{3,})$")


def analyse(question: str, lexicon: NameLexicon | None = None, context: Iterable[str] = (),
            is_word: Callable[[str], bool] | None = None, is_common: Callable[[str], bool] | None = None,
            is_person: Callable[[str], bool] | None = None, is_ordinary: Callable[[str], bool] | None = None,
            is_measure: Callable[[str], bool] | None = None, is_material: Callable[[str], bool] | None = None
            ) -> Query:
    """Read a question: its intent, speaker, topic, names, content words and key constraints.

    `lexicon` holds the names the articles know; `is_word(w)` says whether the articles use a word
    (a word they use is never "corrected" into a name); `is_common(w)` whether they use it a lot (then a
    lower-case word is a word, not a name); `is_ordinary(w)` whether a dictionary lists it in lower case."""
    original = normalise(question)[:2000]
    low = original.lower().rstrip(" ?!.")
    low = re.sub(r"\s+", " ", low)
    whole = low  # across outlets or a summary is asked of by the whole message ("across the stories on …, what …")
    lead_in = False
    if not _ASKS.match(low) and not _FRAMING.match(low) and (tail := _LATER_QUESTION.search(low)) is not None:
        lead_in = True
        # "wait that austrian village making its own tv channel, how many ppl even live there": the question is the
        # clause after the comma; the words before it say what about (they stay among the question's words)
        low = low[tail.start("q"):]
    phrases = tuple(m.group(1).strip() for m in _QUOTED.finditer(original))
    years = tuple(dict.fromkeys(YEAR.findall(original)))
    base = dict(text=question, clean=original, phrases=phrases, years=years, context=tuple(context))
    raw = re.sub(r"\s+", " ", question.strip().lower().replace("’", "'"))[:200].rstrip(" ?!.")
    if not any(c.isalnum() for c in low) or _HELP.match(low) or _HELP.match(raw):
        return Query(kind="help", **base)  # type: ignore[arg-type]
    if _SMALLTALK.match(low) or _SMALLTALK.match(raw):
        return Query(kind="smalltalk", **base)  # type: ignore[arg-type]
    intent_words = REQUEST_WORDS
    names = tuple(_names_in(original, lexicon, intent_words, is_word, is_common, is_ordinary))
    terms = tuple(t for t in content_terms(original) if t not in intent_words and t not in {"tl", "dr"}
                  # "going by the Aldmere report, who …": the lead-in's words about the coverage only say where
                  and not (lead_in and t in META_WORDS))
    answer_type: str | None = None
    if _WHY.match(low):
        answer_type = "why"
    elif _WHEN.match(low):
        answer_type = "when"
    elif _HOW_MANY.match(low):
        # "how many people did it sell guns to?" counts people; "how much did it sell for?" asks a sum
        counted = _counted(low)
        money = _MONEY_WORDS.search(low) and (not counted or any(c in _CURRENCIES for c in counted)) and not (
            low.startswith("how much") and _CHANGE.search(low) and not counted)
        if (noun := _WHAT_NOUN.match(low)) is not None and re.fullmatch(_QUANTITY, noun.group(1)):
            # "what odds …? I've seen two different prices": the noun asked about says whether it is a sum of money
            money = bool(_MONEY_WORDS.fullmatch(noun.group(1)))
        answer_type = "age" if low.startswith("how old") else "money" if money else "number"
    elif _WHAT_COST.match(low):
        answer_type = "money"  # "what's the tram going to cost?"
    elif (level := _WHAT_LEVEL.match(low)) is not None:
        answer_type = "money" if _MONEY_WORDS.search(level.group("what")) else "number"
    elif _WHERE.match(low):
        answer_type = "where"
    elif _HOW.match(low):
        answer_type = "how"
    elif _WHO_FACT.match(low):
        answer_type = "who"
    elif _EVENT.match(low):
        answer_type = "event"
    elif is_person is not None and (m := _WHICH_NOUN.match(low)) \
            and is_person(m.group(1).split()[-1]):
        answer_type = "who"  # "which tory mp has defected?": a person, as "who" asks
    elif is_measure is not None and (m := _WHAT_NOUN.match(low)) and is_measure(m.group(1)):
        answer_type = "number"  # "what odds are the bookies giving?", "what speed did it post?": a figure
    elif (m := _WHICH_PLURAL.match(low)) and m.group(1) not in _NOT_LISTED:
        answer_type = "names"  # "which embassies is he shutting?": the places, firms, films it lists
    elif _CALLED.match(low) or ((kind := _kind_asked(low)) is not None and is_person is not None
                                and not (is_material is not None and is_material(kind))):
        # "what's apple's search tool called?", "which studio is closing?", "what book did he write?": a thing
        # answered by its name (a person, a measure or a list were read above; "what substance …?" is answered by
        # a word, not a name)
        answer_type = "named"
    if _ORDINAL_Q.match(low):
        answer_type = "ordinal"  # "what number world record was that?": the 12th, not a height or a count
    if _ASKS_OUTLET.match(low) and _REPORTS.search(low):
        # "which paper reported the car chase?": the news organisation that says so ("which station refused to air
        # the show?" asks which station did something, not who reported it)
        answer_type = "outlets"
    q = dict(base, names=names, terms=terms, answer_type=answer_type, counted=_counted(low), kind_asked=_kind_asked(low))
    m = _ROLE_OF.match(low)
    if m:
        who = _speaker_like(_orig(original, low, m, "who", "who2", "who3", "who4", "who5"), original, lexicon, is_word)
        if who:
            return Query(kind="who_is", speaker=who, **q)  # type: ignore[arg-type]
    m = _WHO_IS.match(low)
    if m:
        raw = _orig(original, low, m, "who", "who2")
        who = _speaker_like(raw, original, lexicon, is_word)
        # "who is Choe Son Hui" asks about a person; "who is the deputy leader of Veritas" asks a fact
        # "what's Peter Navarro been fighting about" ("what has ... been") asks a fact, not who he is
        if who and (who == strip_title(raw.strip(" ?.,!\"")) or len(raw.split()) <= 4) \
                and not re.search(r"\b(?:of|in|at|for|behind|running|leading)\b|'s?\s+\w", raw, re.I) \
                and not (who[:1].isupper() and re.search(r"\s(?!(?:de|van|von|der|bin|al|da|di|le|la)\b)[a-z]", who)):
            return Query(kind="who_is", speaker=who, **q)  # type: ignore[arg-type]
    m = _WHO_SAID.match(low)
    if m and (phrases or m.group("topic")):
        topic = _orig(original, low, m, "topic").strip(" ?\"") or " ".join(phrases)
        return Query(kind="who_said", topic=topic, **q)  # type: ignore[arg-type]
    if phrases and (low.startswith("who") or (
            q["answer_type"] == "who" and re.search(r"\b" + _SPEECH_VERB + r"\b", low.split('"')[0].split("'")[0]))):
        # "which MP said 'you cannot fight six men'?" asks who said it, as "who said …" does
        return Query(kind="who_said", topic=" ".join(phrases), **q)  # type: ignore[arg-type]
    if _SUMMARY.search(whole) or _ABOUT.match(low):
        return Query(kind="summary", **_without_meta(q))  # type: ignore[arg-type]
    if _MULTI.search(whole):
        if _ASKS_OUTLETS.search(low):  # "which outlets do the articles cite?": the news organisations they name
            q = dict(q, answer_type="outlets")
        return Query(kind="multi", **_without_meta(q))  # type: ignore[arg-type]
    for pat in _QUOTE_PATTERNS:
        m = pat.match(low)
        if m:
            who = _speaker_like(_orig(original, low, m, "who"), original, lexicon, is_word)
            if who:
                about = (_orig(original, low, m, "topic") if m.group("topic") else "").strip(" ?") or None
                return Query(kind="quote", speaker=who, topic=about, **q)  # type: ignore[arg-type]
    if answer_type in {"why", "how"}:
        return Query(kind="why", **q)  # type: ignore[arg-type]
    return Query(kind="fact", **q)  # type: ignore[arg-type]


# words about the coverage itself, not its subject ("do the pieces agree on ...", "which articles bring up ...")
# the words that ask for a summary, not what it is about
REQUEST_WORDS = frozenset(["summarize", "summarise", "summary", "gist", "recap", "overview", "rundown", "tldr",
                           "lowdown", "nutshell", "gimme"])
META_WORDS = frozenset(["articles", "article", "pieces", "piece", "reports", "report", "outlets", "outlet", "coverage",
                        "sources", "source", "papers", "paper", "newspapers", "publications", "media", "agree",
                        "agrees", "disagree", "differ", "differs", "difference", "differences", "different", "compare",
                        "comparison", "context", "cite", "cites", "cited", "bring", "brings", "lean", "leans",
                        "mention", "mentions", "mentioned", "talk", "talks", "think", "sum", "history", "quick",
                        "latest", "update", "updates", "story", "whether", "each", "vary", "contradict", "covered",
                        "cover", "covers", "catch", "gist", "points", "point", "key", "main", "big", "picture",
                        # how the coverage names a thing is asked, not searched for ("who does the coverage name as
                        # Japan's prime minister?", "what labels do the pieces pin on them?")
                        "name", "names", "named", "call", "calls", "called", "label", "labels", "labelled", "labeled",
                        # "the different write-ups", "the various accounts"
                        "write", "ups", "writeups", "stories", "accounts", "various"])


def _without_meta(q: dict[str, object]) -> dict[str, object]:
    """A summary or across-outlets question's fields with the words about the coverage dropped from its terms."""
    terms = q["terms"]
    assert isinstance(terms, tuple)
    kept = tuple(t for t in terms if t not in META_WORDS)
    return dict(q, terms=kept or terms)


def _orig(original: str, low: str, m: re.Match[str], *groups: str) -> str:
    """The original-case text of the first named group that matched (the match ran on a lower-cased copy)."""
    for g in groups:
        try:
            a, b = m.span(g)
        except IndexError:
            continue
        if a >= 0:
            # `low` is `original` lower-cased with trailing punctuation cut: offsets agree
            return original[a:b]
    return ""


# -- a message that asks several things ---------------------------------------------------------------------------
MAX_PARTS = 4  # a chat message asking more is answered in four parts, the last holding the rest
_WH = r"(?:what|what's|whats|wat|who|who's|whos|whom|whose|which|when|where|why|how)"
_AUX = r"(?:did|does|do|is|are|was|were|has|have|had|can|could|will|would|should)"
_CONJ = r"(?:and|but|plus|also|so|then|n|&)"
# where a clause that asks again begins: after a comma, a semicolon, a colon or a dash, "…, and when?" (a question
# word, a conjunction optional); after " and " ("who is bidding and how much is on the table?"); "…, and do the
# reports agree?" (a conjunction, then a verb that opens a question)
_CLAUSE = re.compile(rf"(?:[,;:]|\s[-–—])\s+(?:{_CONJ}\s+)?(?={_WH}\b)|\s+(?:and|n|&)\s+(?={_WH}\b)|"
                     rf"(?:,\s*|\s+)(?:and|but|n|&)\s+(?={_AUX}\s+\S+\s+\S+)", re.I)
# a sentence's end inside a message ("What's the bill? The figures differ. And how much …")
_SENTENCE_END = re.compile(r"(?<=[?!])\s+|(?<=[a-z0-9][.])\s+(?=[A-Z\"'])")
_LEADING_CONJ = re.compile(rf"^(?:{_CONJ}|ok|okay)[,]?\s+", re.I)
# "how the reports portray Trump and where it stands": a question word then its subject is a clause of the question
# before, not a question of its own (one that asks puts its verb first: "where would they go?")
_EMBEDDED = re.compile(rf"^{_WH}(?:\s+(?:much|many|long|far|often|well))?\s+(?:it|it's|its|they|they've|they're|he|"
                       rf"he's|she|she's|we|you|i|this|that|these|those|there)\b", re.I)


def _asks(chunk: str) -> bool:
    """Whether a piece of a message opens as a question or a request ("how much", "is agassi ok", "catch me up")."""
    low = normalise(_LEADING_CONJ.sub("", chunk.strip())).lower()
    return bool(_ASKS.match(low))


def question_parts(message: str) -> list[str]:
    """The questions one message asks, each whole enough to be answered on its own or as a follow-up of the one
    before it: "who bought the commodore brand, and how much is the deal worth?" is two; "going by the reports on
    X, who stands in his way?" is one (a frame, then the question; the frame is carried to the later parts);
    "What's the bill? The figures differ." is one (a statement stays with the question it follows). A message
    asking one thing comes back as it is."""
    text = message.strip()
    if len(text) > 2000 or not text:
        return [text]
    chunks: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        start = 0
        for m in _CLAUSE.finditer(sentence):
            if _EMBEDDED.match(sentence[m.end():]):
                continue
            chunks.append(sentence[start:m.start()])
            start = m.end()
        chunks.append(sentence[start:])
    chunks = [c.strip(" ,;:-–—") for c in chunks if c.strip(" ,;:-–—?")]
    parts: list[str] = []
    lead = ""  # pieces before anything is asked: a frame for what follows
    closing: list[str] = []  # statements after the last question
    for c in chunks:
        if _asks(c):
            c = _LEADING_CONJ.sub("", c)
            parts.append(_joined(lead, c) if not parts else c)
            closing = []
        elif parts:
            parts[-1] += (" " if parts[-1].endswith(("?", ".", "!")) else ", ") + c  # a statement after a question
            closing.append(c)
        else:
            lead = (lead + ", " + c) if lead else c
    # "…, and what had qwest offered? the reports dont give the same number": a closing remark that the coverage
    # differs is said of the whole message, so every part compares the articles
    remark = ", ".join(c for c in closing if _MULTI.search(normalise(c).lower()))
    if remark:
        parts = [p if remark in p else p.rstrip(" ,") + (" " if p.endswith(("?", ".", "!")) else ", ") + remark
                 for p in parts]
    # "more detail pls, who tabled it?", "why? what did they want instead", "what about websites, how many got shut?":
    # a request that names nothing of its own, or a new subject alone, is how the next question begins
    merged: list[str] = []
    for p in parts:
        if merged and _opens_next(merged[-1]):
            merged[-1] = _joined(merged[-1], p)
        else:
            merged.append(p)
    parts = merged
    if len(parts) < 2:
        return [text]
    # a frame that says where to look ("across the stories on 50 Cent and The Game, …") holds for every part
    frame = lead if lead and _FRAMING.match(normalise(lead).lower()) else ""
    if len(parts) > MAX_PARTS:
        parts = parts[:MAX_PARTS - 1] + [" ".join(parts[MAX_PARTS - 1:])]
    return [parts[0]] + [_joined(frame, p) for p in parts[1:]]


def _opens_next(part: str) -> bool:
    low = normalise(part).lower()
    return bool(re.match(r"^(?:what|how) about\b", low)) or not any(
        w not in REQUEST_WORDS and w not in _FILLER_WORDS for w in content_terms(low))


_FILLER_WORDS = frozenset(["pls", "plz", "please", "go", "thanks", "ok", "okay"])  # "more detail pls", "go on"


def _joined(lead: str, question: str) -> str:
    if not lead:
        return question
    return lead + (" " if lead.endswith((".", "?", "!", ":")) else ", ") + question
