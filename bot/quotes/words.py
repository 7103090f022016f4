"""Word lists for quote attribution: cue verbs, titles, organisation heads, non-name words.

Pure data, kept apart from the rules in `bot.quotes` so the lists can grow without noise.
"""

from __future__ import annotations


def _words(s: str) -> frozenset[str]:
    """A set of the white-space separated words in s."""
    return frozenset(s.split())


# Verbs that introduce reported speech ("X said", "said X", "X warned that").
SAY_VERBS = _words(
    """
    say says said saying tell tells told telling add adds added adding note notes noted noting
    warn warns warned warning declare declares declared declaring urge urges urged urging
    state states stated explain explains explained explaining insist insists insisted insisting
    claim claims claimed claiming argue argues argued arguing ask asks asked asking
    reply replies replied replying respond responds responded write writes wrote writing
    tweet tweets tweeted announce announces announced announcing admit admits admitted admitting
    acknowledge acknowledges acknowledged acknowledging confirm confirms confirmed
    stress stresses stressed stressing emphasise emphasised emphasize emphasized emphasizing emphasising
    suggest suggests suggested suggesting predict predicts predicted predicting
    recall recalls recalled recalling comment commented commenting continue continued continues
    conclude concluded concludes observe observed observes remark remarked remarks
    report reports reported reporting vow vows vowed vowing pledge pledged pledges promise promised promises
    threaten threatened threatens demand demanded demands accuse accused accuses accusing
    testify testified believe believes believed think thinks thought reckon reckons reckoned
    joke joked jokes quip quipped boast boasted complain complained complains complaining
    counter countered caution cautioned cautions reveal revealed reveals agree agreed agrees
    maintain maintained maintains muse mused insist exclaimed exclaim shouted shout yelled
    whispered told cried wrote posted tweeted blogged texted emailed tweeting posting texting emailing
    assert asserted asserts contend contended contends concede conceded concedes
    proclaim proclaimed announce declared pointed sing sings sang singing chant chanted chanting
    """
)

# Verbs whose object is then characterised: "described the relationship as 'x'".
AS_VERBS = _words(
    """
    describe describes described describing call calls called calling hail hails hailed hailing
    condemn condemns condemned condemning brand brands branded branding label labels labelled labeled
    labelling labeling dub dubs dubbed dubbing term terms termed terming dismiss dismisses dismissed
    dismissing characterise characterised characterize characterized characterising characterizing
    denounce denounced denounces denouncing praise praised praises praising greet greeted greets
    greeting criticise criticised criticize criticized slam slammed welcome welcomed welcomes
    portray portrayed portrays refer refers referred referring decry decried decries blast blasted
    """
)

# Nouns after "expressed": "expressed concern that ..."
EXPRESS_VERBS = _words("express expresses expressed expressing voice voiced voices")

CUE_VERBS = SAY_VERBS | AS_VERBS | EXPRESS_VERBS

# Adverbs and auxiliaries that may sit between a subject and its verb ("has also said").
AUX = _words(
    """
    has had have also later then previously repeatedly once again recently subsequently earlier
    has been had been was is would will could may might reportedly apparently publicly privately
    simply just only further even yet already still often never always quickly bluntly openly
    """
)

# Honorifics: not roles, but they tell us a token is a person and, often, their gender.
HONORIFICS = _words("mr mrs ms miss dr sir lord lady dame baroness prof rev mx")
MALE = _words("mr sir lord")
FEMALE = _words("mrs ms miss lady dame baroness")

# Abbreviated titles written with a full stop ("Sen. Graham", "the Rev. Al Sharpton"): the stop ends no sentence.
TITLE_ABBREVS = _words(
    """
    mr mrs ms messrs mmes dr prof sen sens rep reps gov govs rev gen lt col capt cmdr cdr sgt cpl pvt maj adm
    supt insp det fr hon atty pres gen st sr jr
    """
)

# Title words that may precede a name and form a role ("Prime Minister", "Foreign Secretary").
TITLES = (
    _words(
        """
    president vice prime minister secretary chancellor professor senator sen rep representative
    governor gov general gen judge justice king queen prince princess pope reverend father
    coach manager chairman chairwoman chair captain capt lieutenant lt colonel col sergeant sgt
    officer detective inspector superintendent commissioner ambassador mayor director leader
    speaker chief deputy shadow foreign home trade industry health culture education defence
    defense attorney commander admiral marshal bishop archbishop cardinal rabbi imam sheikh
    premier chairperson boss skipper striker midfielder defender goalkeeper keeper player
    analyst economist executive ceo founder spokesman spokeswoman spokesperson lawmaker
    congressman congresswoman councillor councilor mp mep treasurer envoy minister
    state interior finance environment transport energy justice work pensions international
    development business agriculture science technology sport media digital housing agent rival
    """
    )
    | HONORIFICS
)

# Heads of noun phrases that can speak though they are not named people.
ORG_HEADS = _words(
    """
    ministry government office spokesman spokeswoman spokesperson spokesmen officials official
    agency department police company firm group party embassy council committee union court board
    commission regulator army military administration cabinet presidency kremlin parliament
    minister secretary president chairman chairwoman chief director leader spokesperson statement
    ambassador envoy diplomat source sources prosecutor prosecutors lawyer lawyers attorney
    watchdog authority authorities bank newspaper agency network channel broadcaster website
    organisation organization federation association foundation institute campaigners campaign
    team club manager coach boss representative representatives negotiator negotiators
    mayor governor senator judge executive ceo chairperson aide aides adviser advisers advisor
    advisors economist economists analyst
    """
)

# Plural or vague subjects that do not identify a speaker.
GENERIC = _words(
    """
    some many others other critics analysts observers experts people residents witnesses sources
    they it this that these those we i you there here what which who one few several most all
    both each everyone everybody someone somebody anyone anybody nobody none many commentators supporters opponents
    skeptics sceptics pundits scholars researchers studies study report reports poll polls data
    figures
    """
)

# Pronouns we resolve to a person.
PERSON_PRONOUNS = _words("he she")

# Capitalised words that start sentences or clauses and are never part of a name.
STOP_CAPS = (
    _words(
        """
    the a an but and or so yet if in on at for of to by with from as after before during while when
    where although though because since despite unlike like however meanwhile still also then
    instead indeed moreover furthermore nevertheless nonetheless thus there this that these those
    it its he she they we i you his her their our my your what which who whom whose why how
    not no yes all some many most both each every any another other such only even just
    over under about above below between among against into through upon within without
    this earlier later now today yesterday tomorrow
    mr mrs ms dr sir lord lady can could would should might must does did do is are was were has have had
    shall who what why how where
    """
    )
    - HONORIFICS
)

# Words meaning a capitalised run is a place, organisation, event or date, not a person.
NON_PERSON = _words(
    """
    korea korean china chinese russia russian united states kingdom nations union european europe
    america american world war north south east west northern southern western eastern new york
    times post street journal news press associated reuters bbc house party labour conservative
    conservatives democrats democrat republican republicans liberal council committee ministry
    department office agency bank fund group corporation company co inc ltd plc llc university
    college school institute center centre association federation league club cup championship
    court parliament congress senate assembly commission authority service services day square
    road city county island islands sea ocean river airport station hospital church festival
    awards award prize film games olympic olympics premier january february march april may june
    july august september october november december monday tuesday wednesday thursday friday
    saturday sunday global international national federal royal army navy force forces police
    government security initiative program programme project act bill treaty summit wall downing
    pacific atlantic asia asian africa african middle gulf peninsula japan japanese india indian iran
    ukraine ukrainian britain british england english france french germany german scotland
    scottish wales welsh ireland irish london washington beijing moscow tokyo seoul pyongyang
    paris berlin brussels tv radio online internet web digital records music show series
    stock exchange market markets index commons lords cabinet treasury foreign home health
    business economy economic financial trade industry
    open slam championships trophy final finals prix classic tournament memorial palace stadium spoon
    """
)

# Words in a newspaper's name, to resolve "the newspaper said" to the title the article gave.
NEWSPAPER_WORDS = _words(
    """
    times post journal news herald guardian telegraph tribune gazette mail observer independent ledger star
    chronicle examiner express sun mirror record courier standard globe inquirer bulletin register
    """
)

# Words that are never a speaker on their own: "Mr" (of "Mr. Trump said"), "United", "Democrats".
NOT_A_SPEAKER = _words(
    """
    united new north south east west northern southern eastern western national international federal
    democrats republicans conservatives liberals americans britons europeans voters people officials
    editor campaign spokesman spokeswoman spokesperson
    """
)
