"""English for messages: counts agree with their nouns, articles with their words."""

from __future__ import annotations

import pytest

from posegen.kit.wording import article, count, listing


@pytest.mark.parametrize(
    ("number", "expected"), [(0, "0 poses"), (1, "1 pose"), (2, "2 poses"), (500, "500 poses")]
)
def test_count(number: int, expected: str) -> None:
    assert count(number, "pose") == expected


def test_count_with_an_irregular_plural() -> None:
    assert count(1, "entry", "entries") == "1 entry"
    assert count(3, "entry", "entries") == "3 entries"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("approved", "an approved"),
        ("in_progress", "an in_progress"),
        ("pending", "a pending"),
        ("rejected", "a rejected"),
        ("completed", "a completed"),
        ("Archived", "an Archived"),
    ],
)
def test_article(word: str, expected: str) -> None:
    assert article(word) == expected


def test_listing() -> None:
    assert listing([]) == ""
    assert listing(["Warrior"]) == "Warrior"
    assert listing(["Warrior", "Lotus"]) == "Warrior and Lotus"
    assert listing(["Warrior", "Lotus", "Tree"]) == "Warrior, Lotus and Tree"
