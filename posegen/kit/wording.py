"""Small English helpers for messages people read: counts with plurals, articles, lists."""

from __future__ import annotations

from collections.abc import Sequence


def count(number: int, singular: str, plural: str | None = None) -> str:
    """`1 pose`, `4 poses`, `0 poses`."""
    return f"{number} {singular if number == 1 else (plural or singular + 's')}"


def article(word: str) -> str:
    """`a pending`, `an approved`, `an in_progress` (by the first letter's sound, vowels only)."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def listing(items: Sequence[str], conjunction: str = "and") -> str:
    """`a`, `a and b`, `a, b and c`."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"
