"""Text generations: find the library poses a prompt describes, and vary them per seed.

Ranking is lexical (name, description and tags, with the synonyms and word
matching of library search), which is what a curated, tagged library of a few
hundred poses needs. Variations take distinct poses while enough match; the
small per-seed joint perturbation makes a repeated pose a slightly different
take on it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from posegen.kit.openpose import Point
from posegen.library import synonyms

JITTER = 0.006  # of the canvas: visible as a different take, never a different pose


@dataclass(frozen=True)
class Candidate:
    pose_id: str
    name: str
    description: str
    tags: Sequence[str]


def score(terms: Sequence[Sequence[str]], candidate: Candidate) -> tuple[int, int]:
    """How well a pose matches a prompt's `terms` (`synonyms.terms`, the rule of library search):
    how many of its words it matches, then where — in the name 3, in a tag 2, in the description 1."""
    name = candidate.name.casefold()
    tags = [tag.casefold() for tag in candidate.tags]
    description = candidate.description.casefold()
    matched = weight = 0
    for term in terms:
        if synonyms.matches(term, name):
            weight += 3
        elif any(synonyms.matches(term, tag) for tag in tags):
            weight += 2
        elif synonyms.matches(term, description):
            weight += 1
        else:
            continue
        matched += 1
    return matched, weight


def rank(prompt: str, candidates: Sequence[Candidate]) -> list[Candidate]:
    """The poses a prompt describes, best first (ties by name, then id, so one prompt always picks
    the same poses): those matching at least half as many of its words as the best one does.
    A pose matching every word — what library search finds — ranks above any that misses one.
    When no pose matches any word, every candidate, by name."""
    terms = synonyms.terms(prompt)
    scored = sorted(
        ((score(terms, c), c) for c in candidates),
        key=lambda item: (-item[0][0], -item[0][1], item[1].name, item[1].pose_id),
    )
    if not scored:
        return []
    best = scored[0][0][0]
    return [c for (matched, _), c in scored if best == 0 or 2 * matched >= best]


def perturb(points: Sequence[Point], seed: int) -> list[Point]:
    """The same pose with each joint moved by a small, seed-determined offset (absent points stay absent)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible jitter, not a secret
    moved: list[Point] = []
    for index, (x, y, confidence) in enumerate(points):
        if confidence <= 0 or index == 1:  # the neck anchors the figure
            moved.append((x, y, confidence))
            continue
        moved.append(
            (
                min(1.0, max(0.0, x + rng.gauss(0.0, JITTER))),
                min(1.0, max(0.0, y + rng.gauss(0.0, JITTER))),
                confidence,
            )
        )
    return moved
