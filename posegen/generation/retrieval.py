"""Text generations: find the library poses a prompt describes, and vary them per seed.

Ranking is lexical (name, description and tags, with a few synonyms), which
is what a curated, tagged library of a few hundred poses needs; the small
per-seed joint perturbation makes each variation a slightly different take
on the same pose.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from posegen.kit.openpose import Point

SYNONYMS: dict[str, tuple[str, ...]] = {
    "sit": ("sitting", "seated", "chair"),
    "sitting": ("sit", "seated", "chair"),
    "seated": ("sit", "sitting", "chair"),
    "stand": ("standing", "upright"),
    "standing": ("stand", "upright"),
    "walk": ("walking", "stride", "stroll"),
    "walking": ("walk", "stride", "stroll"),
    "run": ("running", "sprint", "jog"),
    "running": ("run", "sprint", "jog"),
    "jump": ("jumping", "leap"),
    "jumping": ("jump", "leap"),
    "wave": ("waving", "hello"),
    "waving": ("wave", "hello"),
    "point": ("pointing",),
    "pointing": ("point",),
    "lean": ("leaning",),
    "leaning": ("lean",),
    "stretch": ("stretching", "yoga"),
    "stretching": ("stretch", "yoga"),
    "crossed": ("cross", "folded"),
    "confident": ("power", "strong"),
    "business": ("professional", "office", "corporate"),
    "professional": ("business", "office", "corporate"),
    "relaxed": ("casual", "comfortable"),
    "casual": ("relaxed", "everyday"),
}
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
JITTER = 0.006  # of the canvas: visible as a different take, never a different pose


@dataclass(frozen=True)
class Candidate:
    pose_id: str
    name: str
    description: str
    tags: Sequence[str]


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.casefold()))


def _expanded(words: set[str]) -> set[str]:
    found = set(words)
    for word in words:
        found.update(SYNONYMS.get(word, ()))
    return found


def score(prompt: str, candidate: Candidate) -> float:
    """How well a pose matches a prompt: name words count most, then tags, then description."""
    wanted = _expanded(_words(prompt))
    name = _words(candidate.name)
    tags = set().union(*(_words(tag) for tag in candidate.tags)) if candidate.tags else set()
    description = _words(candidate.description)
    return 3.0 * len(wanted & name) + 2.0 * len(wanted & tags) + 1.0 * len(wanted & description)


def rank(prompt: str, candidates: Sequence[Candidate], limit: int = 3) -> list[Candidate]:
    """The best matches (ties broken by name), keeping those within half of the best score."""
    scored = sorted(((score(prompt, c), c.name, c) for c in candidates), key=lambda item: (-item[0], item[1]))
    if not scored:
        return []
    best = scored[0][0]
    return [c for value, _, c in scored[:limit] if value >= best / 2 and (value > 0 or best == 0)]


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
