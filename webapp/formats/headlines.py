"""Headlines compared as a reader sees them: one key for the same words, whatever the typography
(`headline_key`), and a score for one article's headline lightly reworded (`headline_similarity`)."""

from __future__ import annotations

import decimal
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz

# Typographic quotes, apostrophes and dashes as their plain forms, before punctuation goes.
_TYPOGRAPHY = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u00b4": "'",
    "`": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
}
_TYPOGRAPHIC = re.compile(f"[{re.escape(''.join(_TYPOGRAPHY))}]")
# An apostrophe inside a word ("it's"). The pattern starts with the apostrophe itself, so that the
# regex engine only stops at apostrophes.
_APOSTROPHE = re.compile(r"'(?<=\w')(?=\w)")
_WORD = re.compile(r"[^\W_]+")
STOPWORDS = frozenset(
    "a an the and or but of to in on at for from by with as is are was were be been it its this that "
    "these those into over after before about than then so not no vs via up out new says said".split()
)
# Words of series and live-page headlines ("Morning briefing: …", "Live: …", "What we know"):
# kept in the key, but not counted as content.
GENERIC_WORDS = frozenset(
    "what who why how when where we you i our your know live latest breaking update updates watch video "
    "briefing morning evening weekly daily today news newsletter podcast".split()
)
MIN_CONTENT_WORDS = 3


def words(title: str) -> list[str]:
    """The headline's words: NFKC, case-folded, typography mapped, punctuation dropped."""
    text = _plain_typography(unicodedata.normalize("NFKC", title)).casefold()
    return _WORD.findall(_APOSTROPHE.sub("", text))


def headline_key(title: str) -> str | None:
    """One key for headlines with the same words; None for generic ones (under 3 content words),
    which different stories share too often to say anything."""
    found = words(title)
    if (
        len([word for word in found if word not in STOPWORDS and word not in GENERIC_WORDS])
        < MIN_CONTENT_WORDS
    ):
        return None
    return " ".join(found)


# Near headlines: one article's headline lightly reworded (word order, said/says, a word dropped,
# UK/US spelling, "5m"/"5 million", "EXCLUSIVE:", "| Reuters"). Headlines are normalised first
# (numbers as values, US spelling, decoration, series labels and sources off), then scored with
# rapidfuzz's token_sort_ratio. Different outlets' different articles on one event share many
# words too, so a score alone is not enough (precision 66-71% at the same threshold without them):
# the guards (_GUARDS) turn away pairs that differ where it matters — numbers and dates, names,
# opposite verbs, a negation, "to close" against "closes", a live page, explainer or quote
# against the story, more than a few words of their own — and series ("Morning briefing: …")
# and generic headlines (under 3 content words) never match.
# `python -m bench.headline_threshold` calibrates the threshold and the overlap floor on the even
# lines of tests/data/headline_pairs.tsv (highest recall at precision >= 99%) and reports the
# odd lines, held out; tests/test_near_headlines.py checks these constants are its choice.
NEAR_HEADLINE_THRESHOLD = 82  # rapidfuzz token_sort_ratio of the normalised headlines, 0-100
MIN_CONTENT_OVERLAP = 0.6  # shared content words (stems) over all of them, both headlines
MAX_OTHER_WORDS = 3  # content words in one headline only: more is a rewrite, not a rewording
# token_sort_ratio ignores word order; headlines whose order differs this much (fuzz.ratio below
# REORDERED_RATIO) are restructured ("Charity receives £5m donation" against "Benefactor behind
# £5m donation revealed") unless nearly all their words are the same (a passive, say).
REORDERED_RATIO, REORDERED_TOKEN_SORT = 60, 90

_ACRONYM = re.compile(r"\b(?:[^\W\d_]\.){2,}")
_DECORATION = r"(?:exclusive|breaking news|breaking|updated|update|watch|video|just in)"
_LEADING_DECORATION = re.compile(rf"^\s*{_DECORATION}\s*(?::|-|\|)\s*", re.IGNORECASE)
_TRAILING_DECORATION = re.compile(rf"\s*[(\[]{_DECORATION}[)\]]\s*$", re.IGNORECASE)
# "Storm Isha latest: …", "Opinion - …": a label before the headline proper.
_LABEL = re.compile(r"^\s*([^:|]{1,40}?)\s*(?::|\s-\s|\s\|\s)\s*(?=\S)")
# "… | Reuters", "… - BBC News": the outlet's or wire's name after the headline.
_SOURCE_SUFFIX = re.compile(r"\s(?:\||-)\s+([^|:\d-]{1,30})$")
_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+(?![\d,])|\d+(?:\.\d+)?)"
    r"(?:\s*(%|per ?cent\b|percent\b)|\s*(k|m|bn|tn|thousand|million|billion|trillion)\b)?"
)
# The powers of ten of "5m", "2.5 billion".
_MULTIPLIER = {"k": 3, "thousand": 3, "m": 6, "million": 6, "bn": 9, "billion": 9, "tn": 12, "trillion": 12}
# Numbers as exact decimals, however many digits a title has: float() of 309 digits is infinity,
# and int() refuses more than 4,300 digits (sys.set_int_max_str_digits).
_EXACT = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
_DECIMALS = decimal.Decimal("1e-6")  # a number's decimals beyond the sixth are rounded off
_NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
    if value > 1
}
_NUMBER_WORD = re.compile(rf"\b(?:{'|'.join(_NUMBER_WORDS)})\b")
_DIGIT = re.compile(r"\d")
# Words that date or count: two headlines naming different ones are different articles.
_COUNT_WORDS = frozenset(
    "dozens hundreds thousands millions billions monday tuesday wednesday thursday friday saturday "
    "sunday january february march april june july august september october november december".split()
)
# A page of another kind than a story: one headline with the marker and one without are two pages.
_FORM_PHRASES = tuple(
    phrase.split()
    for phrase in (
        "what we know",
        "to know",
        "as it happened",
        "in pictures",
        "in photos",
        "so far",
        "fact check",
        "key points",
        "q a",
    )
)
_LABEL_FORMS = frozenset(
    "live latest explainer analysis opinion comment timeline podcast obituary quiz review recap "
    "interview editorial letters gallery briefing headlines papers factcheck spoilers".split()
)
_EDGE_FORMS = frozenset({"live", "latest"})  # markers also as a headline's last word
# Labels of a series, one page a day or an hour ("Morning briefing: …", "Live: …", "Tuesday's
# headlines: …"): its pages share their wording, so they are never similar (the same page
# reached twice has the same URL).
_SERIES_WORDS = frozenset(
    "briefing headlines papers live latest quiz podcast newsletter letters recap spoilers morning evening "
    "daily weekly today updates update".split()
)
_NEGATIONS = frozenset(
    "not no never nor dont doesnt didnt wont cant cannot isnt arent wasnt werent hasnt havent "
    "couldnt shouldnt wouldnt".split()
)
_FUTURE = frozenset({"to", "will"})
# A later article on the story: "… again", "… for second day", "to keep using …".
_FOLLOW_UP = frozenset("again still second third another keep keeps continue continues more further".split())
# Words of series, listings and roundups, beyond GENERIC_WORDS: no content of their own.
_NEAR_GENERIC = frozenset("top stories story headlines papers roundup highlights things".split())
# Words with no content of their own: STOPWORDS, GENERIC_WORDS and their plurals ("today's"), _NEAR_GENERIC.
_GENERIC = STOPWORDS | GENERIC_WORDS | _NEAR_GENERIC | {word + "s" for word in GENERIC_WORDS}
# A headline opening with these is a question, an explainer or a feature ("Inside …"), not the news.
_OPENING_FORMS = frozenset(
    "why how what who where when is are can should will does do could would inside".split()
)
# First-person words: a quote ("Boss: “We had to …”"), an interview rather than the story.
_FIRST_PERSON = frozenset("we i our my me ive im weve".split())
# _names reads a headline as (what came since the previous word, the word), what came without
# the quotes and brackets that open the word; and capitalised words, or their part after an
# apostrophe ("d'Artagnan").
_WORD_AFTER = re.compile(r"([\W\d_]*?)[ \"'(\[]*([^\W\d_][\w']*)")
_CAPITALISED = re.compile(r"\b[^\W\d_a-z][\w']*")
_SCOPE_WORDS = frozenset("in across at from for near off throughout by until".split())
# Adjectives and nouns that end like the adverbs ("quietly rolls out") the adverb guard looks for.
_NOT_ADVERBS = frozenset(
    "family supply assembly monopoly anomaly italy july rally reply early only ally holy jelly belly bully "
    "daily weekly monthly yearly quarterly butterfly elderly friendly costly deadly likely lonely lovely "
    "ugly silly unlikely".split()
)
_SPELLING = {
    "tyre": "tire",
    "tyres": "tires",
    "aluminium": "aluminum",
    "programme": "program",
    "programmes": "programs",
    "mould": "mold",
    "grey": "gray",
    "defence": "defense",
    "licence": "license",
    "offence": "offense",
    "cheque": "check",
    "jewellery": "jewelry",
    "sceptical": "skeptical",
    "plough": "plow",
    "kerb": "curb",
    "manoeuvre": "maneuver",
    "draught": "draft",
    "ageing": "aging",
    "judgement": "judgment",
    "centre": "center",
    "centres": "centers",
    "metre": "meter",
    "metres": "meters",
    "theatre": "theater",
    "theatres": "theaters",
    "litre": "liter",
    "litres": "liters",
    "fibre": "fiber",
    "kilometres": "kilometers",
    "toymaker": "toy maker",
    "carmaker": "car maker",
    "seatbelt": "seat belt",
}
_SPELLING_RULES = (
    (re.compile(r"(?<=\w\w)our(s|ed|ing|ite|ites|able)?$"), r"or\1"),
    (re.compile(r"(?<=\w\w\w)is(e|es|ed|ing|ation|ations|er|ers)$"), r"iz\1"),
    (re.compile(r"(?<=\w\w\w)ys(e|es|ed|ing)$"), r"yz\1"),
    (re.compile(r"(?<=\w)ae(?=\w)"), "e"),
    (
        re.compile(
            r"^(cancel|travel|label|model|fuel|signal|counsel|level|total|channel|tunnel|rival|jewel)l"
        ),
        r"\1",
    ),
    (re.compile(r"(?<=\w\w)ogue$"), "og"),
)
_CONTRASTS = tuple(
    pair.split("/")
    for pair in (
        "rise/fall rise/drop rise/slump rise/plunge rise/dip climb/fall climb/drop climb/slump gain/fall "
        "gain/drop gain/lose win/lose beat/miss up/down higher/lower increase/decrease increase/cut "
        "raise/cut hike/cut boost/cut soar/slump soar/plunge soar/tumble surge/slump surge/plunge "
        "surge/tumble double/halve expand/shrink expand/cut approve/reject accept/reject approve/block "
        "back/block back/oppose support/oppose pass/fail grant/deny lift/impose lift/reinstate "
        "extend/scrap open/close reopen/close cancel/resume start/end begin/end arrest/release "
        "convict/acquit guilty/innocent weaken/strengthen weak/strong best/worst right/wrong more/fewer "
        "more/less first/last before/after off/ahead success/failure child/adult children/adults "
        "man/woman men/women boy/girl husband/wife mother/father son/daughter north/south east/west "
        "arrest/charge charge/convict charge/sentence convict/sentence charge/clear arrest/free"
    ).split()
)


@dataclass(slots=True)
class HeadlineProfile:
    """What the near-headline signal reads of one headline: what the first guards read, and the
    rest (`details`) computed when a pair first gets that far, which few do."""

    text: str  # the headline proper: decoration, series label and source off
    normal: tuple[str, ...]  # its words normalised: numbers as values, US spelling
    words: tuple[str, ...]  # the same without page-kind phrases ("what we know", "latest" at the end)
    content: frozenset[str]  # stems of the content words
    counts: tuple[str, ...]  # numbers, weekdays, months, "hundreds": sorted
    forms: frozenset[str]  # "live", "opinion", "what we know", a series label's words
    series: bool  # the headline of one page of a series: "Morning briefing: …"
    negated: bool
    _details: HeadlineDetails | None = field(default=None, repr=False, compare=False)

    @property
    def details(self) -> HeadlineDetails:
        if self._details is None:
            self._details = _headline_details(self)
        return self._details


@dataclass(frozen=True, slots=True)
class HeadlineDetails:
    """What the later guards read of a headline: its names and its verbs' tenses."""

    opening: tuple[str, ...]  # stems of the content words in order, after a label such as "Storm Ciara:"
    names: frozenset[str]  # capitalised words inside a sentence-case headline
    capitals: frozenset[str]  # those and the capitalised words that start a sentence
    cased: bool  # sentence case: a word without a capital is no name
    scopes: frozenset[tuple[str, ...]]  # names right after "in", "across", …: "in Scotland"
    future: frozenset[str]  # stems said with "to"/"will": "to close"
    done: frozenset[str]  # stems said as done, right after a content word: "bank closes"


@dataclass(frozen=True, slots=True)
class HeadlineComparison:
    """Two headlines compared: rapidfuzz scores of the normalised words, shared content, and the
    guard that tells them apart (None when none does)."""

    token_sort: float
    ratio: float
    token_set: float
    overlap: float
    blocked_by: str | None


@lru_cache(maxsize=4096)  # an import meets the same related headlines in many seeds
def headline_profile(title: str) -> HeadlineProfile | None:
    """The headline as the near-headline signal compares it; None for generic ones (under 3 content words)."""
    text, forms = _headline_proper(title)
    normal = _normal_words(text)
    found, more_forms = _forms_in(normal)
    content = [word for word in found if word not in _GENERIC]
    if len(content) < MIN_CONTENT_WORDS:
        return None
    return HeadlineProfile(
        text=text,
        normal=tuple(normal),
        words=tuple(found),
        content=frozenset(map(_stem, content)),
        counts=tuple(sorted([word for word in found if word in _COUNT_WORDS or word[0].isdigit()])),
        forms=frozenset(forms | more_forms),
        series=bool(forms & _SERIES_WORDS or {word.rstrip("s") for word in forms} & _COUNT_WORDS),
        negated=not _NEGATIONS.isdisjoint(found),
    )


def compare_headlines(first: HeadlineProfile, second: HeadlineProfile) -> HeadlineComparison:
    """Both headlines' scores and the first guard that tells them apart."""
    one, other = " ".join(first.words), " ".join(second.words)
    token_sort, ratio = fuzz.token_sort_ratio(one, other), fuzz.ratio(one, other)
    blocked_by = _blocked_by(first, second)
    if not blocked_by and _reordered(token_sort, ratio):
        blocked_by = "reordered"
    return HeadlineComparison(
        token_sort,
        ratio,
        fuzz.token_set_ratio(one, other),
        _overlap(first.content, second.content),
        blocked_by,
    )


def near_headline_score(first: HeadlineProfile, second: HeadlineProfile) -> int | None:
    """The 0-100 similarity when the two headlines look like one article's, else None."""
    if _overlap(first.content, second.content) < MIN_CONTENT_OVERLAP:
        return None  # most pairs of a related list: no need to score them
    # compare_headlines' verdict, the cheapest tests first: most pairs that get here score under
    # the threshold, and only the later guards read the profiles' details.
    one, other = " ".join(first.words), " ".join(second.words)
    token_sort = fuzz.token_sort_ratio(one, other)
    if round(token_sort) < NEAR_HEADLINE_THRESHOLD or _blocked_by(first, second):
        return None
    return None if _reordered(token_sort, fuzz.ratio(one, other)) else round(token_sort)


def headline_similarity(title_a: str, title_b: str) -> int | None:
    """0-100 when the headlines look like one article lightly reworded ("similar headline"), else None."""
    first, second = headline_profile(title_a), headline_profile(title_b)
    return near_headline_score(first, second) if first and second else None


def _headline_details(profile: HeadlineProfile) -> HeadlineDetails:
    cased, names, capitals, scopes = _names(profile.text)
    kicker = _label(profile.text)
    opening = _normal_words(profile.text[kicker.end() :]) if kicker else profile.normal
    future, done = _tenses(profile.words)
    return HeadlineDetails(
        opening=tuple([_stem(word) for word in opening if word not in _GENERIC]),
        names=frozenset(names),
        capitals=frozenset(capitals),
        cased=cased,
        scopes=frozenset(scopes),
        future=future,
        done=done,
    )


def _headline_proper(title: str) -> tuple[str, set[str]]:
    """The headline without decoration ("EXCLUSIVE:", "(VIDEO)"), series label ("Morning briefing:")
    or source ("| Reuters"), and the page-kind markers found in those."""
    text = _plain_typography(unicodedata.normalize("NFKC", title))
    if "." in text:
        text = _ACRONYM.sub(lambda match: match.group(0).replace(".", ""), text)
    text = _strip_decoration(text)
    forms: set[str] = set()
    label = _label(text)
    if label and _kind_label(label.group(1)):
        forms |= set(words(label.group(1)))
        text = text[label.end() :]
    elif label:
        forms |= _EDGE_FORMS & set(words(label.group(1)))  # "Storm Isha latest: …"
    suffix = _SOURCE_SUFFIX.search(text) if "|" in text or "-" in text else None
    if suffix and len(words(suffix.group(1))) <= 3 and len(words(text[: suffix.start()])) >= 4:
        forms |= _EDGE_FORMS & set(words(suffix.group(1)))
        text = text[: suffix.start()]
    return text, forms


def _plain_typography(text: str) -> str:
    if text.isascii():  # most headlines: the grave accent is the one ASCII character to map
        return text.replace("`", "'")
    return _TYPOGRAPHIC.sub(lambda match: _TYPOGRAPHY[match.group(0)], text)


def _forms_in(found: list[str]) -> tuple[list[str], set[str]]:
    """The words (a new list) without page-kind phrases ("what we know", "latest" at the end), and markers."""
    forms = set()
    if found and found[-1] in _EDGE_FORMS:
        forms.add(found[-1])
        found = found[:-1]
    present = set(found)
    for phrase in _FORM_PHRASES:
        if not present.issuperset(phrase):
            continue  # most headlines: no need to look for the phrase
        for start in range(len(found) - len(phrase) + 1):
            if found[start : start + len(phrase)] == phrase:
                forms.add(" ".join(phrase))
                found = found[:start] + found[start + len(phrase) :]
                break
    if found and found[0] in _OPENING_FORMS:
        forms.add(found[0])
    if not _FIRST_PERSON.isdisjoint(found):
        forms.add("quote")
    return found, forms


def _label(text: str) -> re.Match | None:
    """The label before the headline proper ("Storm Isha latest:"), if any."""
    return _LABEL.match(text) if ":" in text or "-" in text or "|" in text else None


def _strip_decoration(text: str) -> str:
    while True:
        stripped = _LEADING_DECORATION.sub("", text, count=1).strip()
        if stripped.endswith((")", "]")):  # "(VIDEO)"
            stripped = _TRAILING_DECORATION.sub("", stripped, count=1)
        if stripped == text:
            return text
        text = stripped


def _kind_label(label: str) -> bool:
    """Whether a label says what kind of page follows: "Opinion", "Morning briefing", "Live updates"."""
    found = words(label)
    return (
        0 < len(found) <= 4
        and bool(set(found) & _LABEL_FORMS)
        and all(
            word in _LABEL_FORMS or word in GENERIC_WORDS or word in STOPWORDS or _count_word(word)
            for word in found
        )
    )


def _count_word(word: str) -> bool:
    return word in _COUNT_WORDS or word.rstrip("s") in _COUNT_WORDS


def _normal_words(text: str) -> list[str]:
    """Words with numbers as values ("5m" as "5000000", "ten" as "10"), US spelling, "mondays" as "monday"."""
    text = _NUMBER_WORD.sub(lambda match: _NUMBER_WORDS[match.group(0)], text.casefold())
    if _DIGIT.search(text):
        text = _NUMBER.sub(_number_token, text)
    return [normal for word in words(text) for normal in _normal_word(word)]


@lru_cache(maxsize=65536)
def _normal_name(word: str) -> tuple[str, ...]:
    """_normal_words of one capitalised word: headlines share their names."""
    return tuple(_normal_words(word))


@lru_cache(maxsize=65536)
def _normal_word(word: str) -> tuple[str, ...]:
    """One word of _normal_words: US spelling, "mondays" as "monday", "carmaker" as two words."""
    word = word[:-1] if word.endswith("s") and word[:-1] in _COUNT_WORDS else word
    return tuple((_SPELLING[word] if word in _SPELLING else _us_spelling(word)).split())


def _number_token(match: re.Match) -> str:
    value = decimal.Decimal(match.group(1).replace(",", ""))
    if match.group(2):
        return f" {_plain(value)}pct "
    return f" {_plain(_EXACT.scaleb(value, _MULTIPLIER.get(match.group(3) or '', 0)))} "


def _plain(value: decimal.Decimal) -> str:
    """The number's digits, "p" for its point, without trailing zeros: "5000000", "2p5"."""
    if value.as_tuple().exponent < -6:
        value = value.quantize(_DECIMALS, decimal.ROUND_HALF_UP, _EXACT)
    return format(_EXACT.normalize(value), "f").replace(".", "p")


def _us_spelling(word: str) -> str:
    if len(word) < 5 or word[0].isdigit():
        return word
    for pattern, replacement in _SPELLING_RULES:
        word = pattern.sub(replacement, word)
    return word


def _names(text: str) -> tuple[bool, set[str], set[str], set[tuple[str, ...]]]:
    """Whether the headline is in sentence case; if so its capitalised words, but for those that
    only start a sentence (names), all its capitalised words (capitals), and the runs of names
    right after "in", "across", "at", … (scopes)."""
    found = _WORD_AFTER.findall(text)
    lowercase = [word[0].islower() for _, word in found[1:] if len(word) >= 4]
    if not lowercase or sum(lowercase) < 0.2 * len(lowercase):
        return False, set(), set(), set()  # Title Case or ALL CAPS: capitals say nothing
    names, scopes, run, scoped = set(), set(), [], False
    for index, (_, word) in enumerate(found):
        if not word[0].isupper():
            if run and scoped:
                scopes.add(tuple(run))
            folded = word.casefold()
            run, scoped = (
                [],
                folded in _SCOPE_WORDS
                or (folded == "the" and index > 0 and found[index - 1][1].casefold() in _SCOPE_WORDS),
            )
        # A capital that starts a sentence is no name, unless a name follows: "Belix Bank".
        elif (
            not _starts_sentence(found, index)
            or word.isupper()
            or (
                index + 1 < len(found)
                and found[index + 1][1][0].isupper()
                and not _starts_sentence(found, index + 1)
            )
        ):
            normal = _normal_name(word)
            names.update(normal)
            run.extend(normal)
    if run and scoped:
        scopes.add(tuple(run))
    capitals = names.union(*map(_normal_name, _CAPITALISED.findall(text)))
    return True, names, capitals, scopes


def _starts_sentence(found: list[tuple[str, str]], index: int) -> bool:
    """Whether the word is the headline's first, or one after a colon, a dash, a full stop, …"""
    before = found[index][0]
    return before[-1] in ":|-.?!;" if before else index == 0


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    for suffix, replacement in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + replacement
            break
    word = word[:-1] if word.endswith("e") and len(word) > 3 else word
    return word[:-1] if len(word) > 3 and word[-1] == word[-2] and not word[-1].isdigit() else word


_CONTRAST_STEMS = frozenset(frozenset((_stem(one), _stem(other))) for one, other in _CONTRASTS)


def _tenses(found: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    future, done = set(), set()
    two_before = before = None
    for word in found:
        if before in _FUTURE or (before == "be" and two_before in _FUTURE):  # "to close", "will be closed"
            future.add(_stem(word))
        elif before is not None and before not in STOPWORDS and word not in STOPWORDS:
            done.add(_stem(word))
        two_before, before = before, word
    return frozenset(future), frozenset(done)


def _overlap(first: frozenset[str], second: frozenset[str]) -> float:
    shared = len(first & second)
    return shared / (len(first) + len(second) - shared)


def _reordered(token_sort: float, ratio: float) -> bool:
    return ratio < REORDERED_RATIO and token_sort < REORDERED_TOKEN_SORT


def _blocked_by(first: HeadlineProfile, second: HeadlineProfile) -> str | None:
    """The name of the first guard that tells the two headlines apart, if any."""
    return next((name for name, differ in _GUARDS if differ(first, second)), None)


def _both_ways(differ):
    return lambda first, second: differ(first, second) or differ(second, first)


def _only_in(first: HeadlineProfile, second: HeadlineProfile) -> set[str]:
    return set(first.words) - set(second.words)


def _opposite(first: HeadlineProfile, second: HeadlineProfile) -> bool:
    return any(
        frozenset((_stem(one), _stem(other))) in _CONTRAST_STEMS
        for one in _only_in(first, second)
        for other in _only_in(second, first)
    )


def _other_tense(first: HeadlineProfile, second: HeadlineProfile) -> bool:
    """Whether the first says as a plan what the second says as done: "Bank to close", "Bank closes"."""
    first, second = first.details, second.details
    return bool((first.future & second.done) - second.future)


def _adverb(word: str) -> bool:
    return len(word) >= 6 and word.endswith("ly") and word not in _NOT_ADVERBS


def _other_names(first: HeadlineProfile, second: HeadlineProfile) -> set[str]:
    return {name for name in first.details.names if not _named_in(name, second)}


def _other_capitals(first: HeadlineProfile, second: HeadlineProfile) -> set[str]:
    return {word for word in first.details.capitals if not _named_in(word, second)}


def _new_subject(first: HeadlineProfile, second: HeadlineProfile) -> bool:
    """Whether the first headline puts words of its own before the second's opening word:
    "Paris residents react as Iois funds loans" against "Iois funds loans in Paris"."""
    opening, other_opening = first.details.opening, second.details.opening
    if not other_opening or other_opening[0] not in opening:
        return False
    before = opening[: opening.index(other_opening[0])]
    return sum(word not in second.content for word in before) >= 2


def _other_scope(first: HeadlineProfile, second: HeadlineProfile) -> bool:
    return any(not any(_named_in(name, second) for name in scope) for scope in first.details.scopes)


def _named_in(name: str, headline: HeadlineProfile) -> bool:
    """Whether the headline has the name: the same word, or a capitalised one close to it
    ("Libya", "Libyan"); any close word when the headline is in Title Case."""
    details = headline.details
    return name in headline.words or any(
        _same_name(name, word) for word in (details.capitals if details.cased else headline.words)
    )


_GUARDS = (
    ("series", lambda first, second: first.series or second.series),
    ("form", lambda first, second: first.forms != second.forms),
    ("negation", lambda first, second: first.negated != second.negated),
    ("numbers", lambda first, second: bool(first.counts and second.counts and first.counts != second.counts)),
    ("rewritten", lambda first, second: len(first.content ^ second.content) > MAX_OTHER_WORDS),
    (
        "names",
        _both_ways(
            lambda first, second: bool(_other_names(first, second) and _other_capitals(second, first))
        ),
    ),
    ("scope", _both_ways(lambda first, second: _other_scope(first, second))),
    ("new subject", _both_ways(lambda first, second: _new_subject(first, second))),
    ("opposite", _opposite),
    (
        "follow-up",
        lambda first, second: bool(_FOLLOW_UP & (_only_in(first, second) | _only_in(second, first))),
    ),
    ("adverb", lambda first, second: any(map(_adverb, _only_in(first, second) | _only_in(second, first)))),
    ("tense", _both_ways(_other_tense)),
)


def _same_name(name: str, word: str) -> bool:
    shorter = min(len(name), len(word))
    return (
        name == word
        or (shorter >= 4 and (name.startswith(word) or word.startswith(name)))
        or (shorter >= 4 and fuzz.ratio(name, word) >= 75)
    )
