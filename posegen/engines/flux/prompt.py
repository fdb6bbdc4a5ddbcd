"""Text prompts for FLUX: the positive prompt of one pose and the shared negative prompt (DATA.md)."""

from __future__ import annotations

from collections.abc import Mapping

# DATA.md "Engines"; kept as a tuple so the list is readable and diffable.
NEGATIVE_TERMS: tuple[str, ...] = (
    "blurry",
    "low quality",
    "distorted",
    "deformed",
    "disfigured",
    "bad anatomy",
    "bad proportions",
    "extra limbs",
    "cloned face",
    "malformed limbs",
    "missing arms",
    "missing legs",
    "extra arms",
    "extra legs",
    "fused fingers",
    "too many fingers",
    "long neck",
    "watermark",
    "text",
    "error",
    "ugly",
    "duplicate",
    "morbid",
    "mutilated",
    "out of frame",
    "poorly drawn hands",
    "poorly drawn face",
)
NEGATIVE_PROMPT = ", ".join(NEGATIVE_TERMS)

QUALITY_TERMS = (
    "professional photography, photorealistic, sharp focus, natural lighting, high detail, 85mm lens"
)


def _clean(value: str | None) -> str:
    """Collapse whitespace and drop trailing separators so parts join cleanly with ', '."""
    if value is None:
        return ""
    return " ".join(value.split()).strip(" ,.;")


def avatar_phrase(avatar: Mapping[str, str]) -> str:
    """'{gender} person, {ageRange}, {ethnicity}, {bodyType} build, {hairStyle} hair, {style} style'
    from the attributes present (DATA.md's template, with the body type and hair style every
    avatar attribute reaches the prompt).

    Empty when no attribute is set; 'person' stands in for a missing gender so the
    phrase still names a subject.
    """
    gender = _clean(avatar.get("gender"))
    age = _clean(avatar.get("ageRange"))
    ethnicity = _clean(avatar.get("ethnicity"))
    body = _clean(avatar.get("bodyType"))
    hair = _clean(avatar.get("hairStyle"))
    style = _clean(avatar.get("style"))
    if not (gender or age or ethnicity or body or hair or style):
        return ""
    parts = [
        f"{gender} person" if gender else "person",
        age,
        ethnicity,
        f"{body} build" if body else "",
        f"{hair} hair" if hair else "",
        f"{style} style" if style else "",
    ]
    return ", ".join(p for p in parts if p)


def build_prompt(
    pose_description: str,
    avatar: Mapping[str, str],
    text_prompt: str | None,
    background_prompt: str | None,
) -> str:
    """The full positive prompt of one pose.

    Order: pose description, the user's extra text, the avatar phrase, photographic
    quality terms, then the background (last, so it does not outweigh the pose).
    """
    background = _clean(background_prompt)
    parts = [
        _clean(pose_description),
        _clean(text_prompt),
        avatar_phrase(avatar),
        QUALITY_TERMS,
        f"background: {background}" if background else "",
    ]
    return ", ".join(p for p in parts if p)
