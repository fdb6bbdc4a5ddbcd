"""How a query's words match a pose: the one rule behind library search and text generations.

A query is split into words (at most `MAX_WORDS`); a pose matches when *every* word, or one of
its synonyms, appears in the pose's searchable text (`service.search_text`: case-folded name,
description and tags), in any order. "Appears" is a plain substring test — the same one a SQL
`LIKE '%word%'` makes, so "arm" also finds "arms" and the database and Python agree. `%`, `_`
and `\\` are ordinary characters of a word (the SQL escapes them).

`GROUPS` is the only synonym table: each group's words stand for one another. Keep it small and
about body positions and clothing people search for; a word belongs to at most one group.
"""

from __future__ import annotations

from collections.abc import Sequence

GROUPS: tuple[tuple[str, ...], ...] = (
    ("sit", "sitting", "seated"),
    ("stand", "standing", "upright"),
    ("arm", "arms"),
    ("hand", "hands"),
    ("squat", "squatting", "crouch", "crouching"),
    ("walk", "walking", "stride", "stroll"),
    ("run", "running", "sprint", "jog"),
    ("jump", "jumping", "leap"),
    ("lie", "lying", "reclining", "recline"),
    ("lean", "leaning"),
    ("wave", "waving"),
    ("point", "pointing"),
    ("cross", "crossed", "folded"),
    ("hijab", "headscarf", "kerudung", "jilbab"),
    ("business", "professional", "office", "corporate"),
    ("relaxed", "casual"),
)

# Bounds the SQL of a search: each word is one OR of a few LIKEs, all ANDed.
MAX_WORDS = 8

# Stripped from the ends of a word so "arms," matches "arms"; never `%`, `_` or `\`, which a
# word may mean literally.
_EDGE = ".,;:!?\"'()[]{}"

_SYNONYMS: dict[str, tuple[str, ...]] = {word: group for group in GROUPS for word in group}


def words(text: str) -> list[str]:
    """The distinct case-folded words of `text`, in order, edge punctuation stripped."""
    found: dict[str, None] = {}
    for raw in text.casefold().split():
        word = raw.strip(_EDGE)
        if word:
            found[word] = None
    return list(found)


def alternatives(word: str) -> tuple[str, ...]:
    """The word and its synonyms (the word first); any one of them appearing matches the word."""
    group = _SYNONYMS.get(word, ())
    return (word, *(other for other in group if other != word))


def terms(text: str) -> list[tuple[str, ...]]:
    """Each word of `text` with its alternatives: what a match needs one of, per word."""
    return [alternatives(word) for word in words(text)]


def matches(term: Sequence[str], searchable: str) -> bool:
    """Whether one of a word's alternatives appears in case-folded `searchable` text."""
    return any(alternative in searchable for alternative in term)
