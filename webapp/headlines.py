"""Headlines compared as a reader sees them: one key for the same words, whatever the typography."""

from __future__ import annotations

import re
import unicodedata

# Typographic quotes, apostrophes and dashes as their plain forms, before punctuation goes.
_TYPOGRAPHY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
})
_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)")
_NOT_WORD = re.compile(r"[\W_]+")
STOPWORDS = frozenset(
    "a an the and or but of to in on at for from by with as is are was were be been it its this that these those "
    "into over after before about than then so not no vs via up out new says said".split()
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
    text = unicodedata.normalize("NFKC", title).translate(_TYPOGRAPHY).casefold()
    return _NOT_WORD.sub(" ", _APOSTROPHE.sub("", text)).split()


def headline_key(title: str) -> str | None:
    """One key for headlines with the same words; None for generic ones (under 3 content words),
    which different stories share too often to say anything."""
    found = words(title)
    if sum(word not in STOPWORDS and word not in GENERIC_WORDS for word in found) < MIN_CONTENT_WORDS:
        return None
    return " ".join(found)
