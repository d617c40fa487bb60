"""The queue's search box: what a moderator types, read into terms, and written as FTS5 or tsquery syntax.

Words are runs of letters and digits, in any case; the terms are all required. `"a few words"`
is a phrase (those words next to each other, in that order) and `elect*` a prefix (any word
starting with it). Anything else in the box separates words, so no operator, column name or
quote of the databases' own syntaxes can get through: the queries built here quote every word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

MAX_TERMS = 10
MIN_PREFIX = 2
SYNTAX = 'words (all must match), "a phrase" in double quotes, or a prefix like elect*'

_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r'"([^"]*)("?)(\*?)|([^\s"]+)')


class SearchQueryError(ValueError):
    """A search that cannot be run; the message says why, and how to write it."""


@dataclass(frozen=True)
class Term:
    """One required term: a word, or a phrase of words; `prefix` lets its last word be a prefix."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[Term, ...]

    def fts5(self) -> str:
        """The query in SQLite FTS5's syntax: each term a quoted string, all of them required."""
        return " ".join(f'"{" ".join(term.words)}"' + ("*" if term.prefix else "") for term in self.terms)

    def tsquery(self) -> str:
        """The query for PostgreSQL's to_tsquery: each word quoted, phrases joined by <->, terms by &."""
        terms = []
        for term in self.terms:
            words = [f"'{word}'" for word in term.words]
            if term.prefix:
                words[-1] += ":*"
            terms.append("(" + " <-> ".join(words) + ")")
        return " & ".join(terms)

    def marked(self, text: str) -> tuple[tuple[str, bool], ...]:
        """`text` cut into parts, each with whether it is a word the search matches (to highlight)."""
        whole = {_folded(word) for term in self.terms for word in term.words}
        prefixes = tuple(_folded(term.words[-1]) for term in self.terms if term.prefix)
        parts, start = [], 0
        for match in _WORD.finditer(text):
            word = _folded(match.group())
            if word in whole or word.startswith(prefixes or ("\0",)):
                if match.start() > start:
                    parts.append((text[start : match.start()], False))
                parts.append((match.group(), True))
                start = match.end()
        if start < len(text):
            parts.append((text[start:], False))
        return tuple(parts)


@lru_cache(maxsize=1024)
def parse(text: str) -> SearchQuery:
    """The search `text` asks for; SearchQueryError naming what is wrong with it."""
    if text.count('"') % 2:
        raise SearchQueryError(f"Search: a double quote is not closed. Write {SYNTAX}.")
    terms = []
    for phrase, _closing, phrase_star, bare in _TOKEN.findall(text):
        if bare:
            term = _bare_term(bare)
        else:
            words = _words(phrase)
            if not words:
                raise SearchQueryError('Search: "" holds no word: put words between the quotes.')
            term = Term(words, prefix=bool(phrase_star))
        if term is not None:
            _check_prefix(term)
            terms.append(term)
    if not terms:
        raise SearchQueryError(f"Search: {_shown(text)} holds no word to search for. Write {SYNTAX}.")
    if len(terms) > MAX_TERMS:
        raise SearchQueryError(f"Search: at most {MAX_TERMS} words or phrases, not {len(terms)}.")
    return SearchQuery(tuple(terms))


def _bare_term(token: str) -> Term | None:
    body, star = (token[:-1], True) if token.endswith("*") else (token, False)
    if "*" in body:
        raise SearchQueryError(f"Search: {_shown(token)}: * goes at the end of a word, as in elect*.")
    words = _words(body)
    if not words:
        if star:
            raise SearchQueryError("Search: * goes at the end of a word, as in elect*.")
        return None  # punctuation alone, like "-" or "&": it only separates words
    return Term(words, prefix=star)


def _check_prefix(term: Term) -> None:
    if term.prefix and len(term.words[-1]) < MIN_PREFIX:
        raise SearchQueryError(
            f"Search: {term.words[-1]}* is too short a prefix: give at least {MIN_PREFIX} letters."
        )


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.lower() for word in _WORD.findall(text))


@lru_cache(maxsize=65536)
def _folded(word: str) -> str:
    """The word as both databases compare it to a lowercase query word, accents dropped for highlighting."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")
