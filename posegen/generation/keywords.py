"""Prompt rules of DATA.md: forbidden and pose keywords, matched as whole words after NFC."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

FORBIDDEN_KEYWORDS: tuple[str, ...] = (
    # explicit
    "nude", "naked", "nsfw", "explicit", "porn", "pornographic", "sexual", "sex", "xxx", "erotic", "hentai",
    "lewd",
    # copyrighted characters
    "mickey mouse", "minnie mouse", "donald duck", "spiderman", "spider-man", "superman", "batman",
    "wonder woman", "iron man", "captain america", "hulk", "thor", "pokemon", "pikachu", "naruto", "goku",
    "sonic", "mario", "luigi", "zelda", "hello kitty", "spongebob",
    # harmful
    "hitler", "nazi", "terrorist", "terrorism", "violence", "violent", "gore", "bloody", "murder", "kill",
    "suicide", "drug", "cocaine", "heroin", "meth",
)  # fmt: skip

POSE_KEYWORDS: tuple[str, ...] = (
    "pose", "posing", "position", "posture", "stance", "gesture", "body", "standing", "stand", "upright",
    "sitting", "sit", "seated", "chair", "walking", "walk", "running", "run", "jumping", "jump", "reaching",
    "reach", "stretching", "stretch", "leaning", "lean", "arms", "hands", "waving", "wave", "pointing",
    "point", "crossed arms", "hands on hips", "professional", "business", "formal", "confident", "casual",
    "relaxed", "natural", "comfortable", "full body", "full-body", "whole body", "upper body", "lower body",
)  # fmt: skip

_HTML = re.compile(r"<\s*script|<\s*iframe|javascript\s*:|\bon[a-z]+\s*=", re.IGNORECASE)
_REPEATED = re.compile(r"(.)\1{9,}", re.DOTALL)


def normalise(text: str) -> str:
    """Trimmed, NFC-normalised text (what is stored and checked)."""
    return unicodedata.normalize("NFC", text).strip()


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    # Whole words and phrases: "skills" does not contain "kill", "Sussex" not "sex".
    alternatives = sorted((re.escape(phrase) for phrase in phrases), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])", re.IGNORECASE)


_FORBIDDEN = _phrase_pattern(FORBIDDEN_KEYWORDS)
_POSE = _phrase_pattern(POSE_KEYWORDS)


def contains_forbidden(text: str) -> bool:
    return _FORBIDDEN.search(normalise(text)) is not None


def mentions_pose(text: str) -> bool:
    return _POSE.search(normalise(text)) is not None


def has_markup(text: str) -> bool:
    return _HTML.search(text) is not None


def has_long_repeat(text: str) -> bool:
    return _REPEATED.search(text) is not None
