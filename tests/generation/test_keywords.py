"""Prompt rules on the canonical form: every known Unicode trick is refused, near-misses pass.

The same tables run twice: against the keyword module, and over HTTP `POST /generate`
on both databases (`textPrompt`, and `backgroundPrompt` for the rules it shares).
"""

from __future__ import annotations

import unicodedata

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from posegen.config import Settings
from posegen.db import Database
from posegen.generation import keywords
from posegen.generation.keywords import PromptRule
from posegen.generation.models import Generation
from tests.generation.helpers import scene, submit

FORBIDDEN = PromptRule.FORBIDDEN
MARKUP = PromptRule.MARKUP
REPETITION = PromptRule.REPETITION
MINOR = PromptRule.MINOR

# (prompt, the rule that refuses it). Each holds a pose keyword, so only the named rule can fail.
REFUSED: list[tuple[str, PromptRule]] = [
    # invisible characters inside a word
    ("n\u200bude standing pose", FORBIDDEN),  # zero-width space
    ("nu\u00adde standing pose", FORBIDDEN),  # soft hyphen
    ("n\u200cu\u200dd\u2060e standing pose", FORBIDDEN),  # ZWNJ, ZWJ, word joiner
    ("nude\ufe0f standing pose", FORBIDDEN),  # variation selector
    ("n\u202eude standing pose", FORBIDDEN),  # bidi override
    # other letters that look the same
    ("ｎｕｄｅ standing pose", FORBIDDEN),  # fullwidth
    ("nud\u0435 standing pose", FORBIDDEN),  # Cyrillic е
    ("k\u0456ll standing pose", FORBIDDEN),  # Cyrillic і
    ("\U0001d427\U0001d42e\U0001d41d\U0001d41e standing pose", FORBIDDEN),  # mathematical bold
    ("\U0001d4c3\U0001d4ca\U0001d4b9\u212f standing pose", FORBIDDEN),  # mathematical script
    ("ᴺᵁᴰᴱ standing pose", FORBIDDEN),  # modifier letters
    ("nu\u0301de standing pose", FORBIDDEN),  # combining accent
    ("n\u0334ude standing pose", FORBIDDEN),  # combining overlay
    ("NUDE standing pose", FORBIDDEN),
    # separators
    ("nude_shot standing pose", FORBIDDEN),
    ("nude-shot standing pose", FORBIDDEN),
    ("spider_man standing pose", FORBIDDEN),
    ("spider\u2010man standing pose", FORBIDDEN),  # U+2010 hyphen
    ("spider\u2011man standing pose", FORBIDDEN),  # non-breaking hyphen
    ("spider\u2013man standing pose", FORBIDDEN),  # en dash
    ("spider\uff0dman standing pose", FORBIDDEN),  # fullwidth hyphen-minus
    ("spider man standing pose", FORBIDDEN),
    ("mickey\u00a0mouse standing pose", FORBIDDEN),  # no-break space
    ("mickey  mouse standing pose", FORBIDDEN),  # double space
    ("mickey\tmouse standing pose", FORBIDDEN),
    ("mickey\u3000mouse standing pose", FORBIDDEN),  # ideographic space
    ("mickey_mouse standing pose", FORBIDDEN),
    ("mickeymouse standing pose", FORBIDDEN),
    ("Mario jumping", FORBIDDEN),  # still forbidden by DATA.md
    ("he11o kitty standing pose", FORBIDDEN),  # digits that look like letters
    # sexualised
    ("sexy pose on the beach", FORBIDDEN),
    ("woman in lingerie posing", FORBIDDEN),
    ("topless woman standing", FORBIDDEN),
    ("seductive pose on a bed", FORBIDDEN),
    ("provocative stance", FORBIDDEN),
    ("s\u200be\u200bx\u200by pose", FORBIDDEN),
    ("pose seksi di pantai", FORBIDDEN),  # Bahasa Indonesia: sexy
    # markup
    ("<scr\u200bipt>alert(1)</script> standing pose", MARKUP),
    ("<SCRIPT>alert(1)</SCRIPT> standing pose", MARKUP),
    ("＜script＞ standing pose", MARKUP),  # fullwidth brackets
    ("< script> standing pose", MARKUP),
    ("java\tscript:alert(1) standing pose", MARKUP),
    ("java\u200bscript:alert(1) standing pose", MARKUP),
    ("JavaScript :alert(1) standing pose", MARKUP),
    ("vbscript:msgbox(1) standing pose", MARKUP),
    ("data:text/html;base64,PHNjcmlwdD4= standing pose", MARKUP),
    ("<object data=x> standing pose", MARKUP),
    ("<embed src=x> standing pose", MARKUP),
    ("<iframe src=x> standing pose", MARKUP),
    ("<style>@import url(x)</style> standing pose", MARKUP),
    ("@import url(x) standing pose", MARKUP),
    ("<img src=x onerror=alert(1)> standing pose", MARKUP),
    ("<svg/onload=alert(1)> standing pose", MARKUP),
    ("<b>bold</b> standing pose", MARKUP),
    ("<!-- hidden --> standing pose", MARKUP),
    ("&lt;script&gt;alert(1) standing pose", MARKUP),
    # repetition
    ("aaaaaaaaaa standing pose", REPETITION),
    ("\u200b".join("a" * 10) + " standing pose", REPETITION),  # zero-width spaces between
    ("\u00ad".join("!" * 10) + " standing pose", REPETITION),
    ("AAAAAaaaaa standing pose", REPETITION),
    # a minor paired with body or clothing words
    ("child in a bikini standing", MINOR),
    ("kid in underwear standing", MINOR),
    ("teen in a swimsuit posing", MINOR),
    ("toddler body pose", MINOR),
    ("baby in swimwear sitting", MINOR),
    ("schoolgirl in a bikini standing", MINOR),
    ("school girl in a bikini standing", MINOR),
    ("little girl bikini pose", MINOR),
    ("12 year old in a swimsuit standing", MINOR),
    ("12-year-old girl in swimwear posing", MINOR),
    ("girl under 18 in a bikini standing", MINOR),
    ("girl aged 15 in a swimsuit standing", MINOR),
    ("k\u200bid in a b\u0456kini standing", MINOR),  # tricks apply to this rule too
    ("anak memakai baju renang berdiri pose", MINOR),  # Bahasa Indonesia: child, swimsuit
]

# Harmless prompts that look a little like refused ones; each must pass every rule.
PASSES: list[str] = [
    "skills training pose, standing",
    "standing pose in the Sussex countryside",
    "Essex street style, standing",
    "Middlesex office, business pose",
    "therapist sitting in a chair",
    "posing next to a killer whale statue",
    "woman in a pastel hijab standing confidently for a Shopee product photo",
    "pose berdiri dengan tangan di pinggang",
    "model berhijab duduk santai di kursi, pose percaya diri",
    "woman in a bikini standing on the beach",
    "man in swim trunks standing, body facing left",
    "25 years old woman in a swimsuit standing",
    "mother holding a child, full body standing pose",
    "kids clothing catalogue: child standing, full body",
    "woman in a baby blue swimsuit standing",
    "child's pose, stretching the whole body",
    "bodybuilder standing pose",
    "man ironing a shirt, standing",
    "Thornton business portrait, standing",
    "a < b, I <3 yoga, standing",
    "facial expression (smiling), standing",
    "sitting on a cobra-shaped bench",
    "stand-up comedian pose",
    "café owner standing with crossed arms",
    "standing pose\nsecond line of the prompt",
    "pose with 1000 balloons, standing",
]


@pytest.mark.parametrize(("prompt", "rule"), REFUSED, ids=[ascii(p) for p, _ in REFUSED])
def test_every_bypass_is_refused_by_its_rule(prompt: str, rule: PromptRule) -> None:
    assert keywords.first_violation(prompt, needs_pose=True) is rule


@pytest.mark.parametrize("prompt", PASSES, ids=ascii)
def test_near_misses_pass(prompt: str) -> None:
    assert keywords.first_violation(prompt, needs_pose=True) is None


def test_background_prompts_need_no_pose_keyword_but_keep_every_other_rule() -> None:
    assert keywords.first_violation("a quiet beach at sunset", needs_pose=False) is None
    assert keywords.first_violation("a quiet beach at sunset", needs_pose=True) is PromptRule.POSE
    assert keywords.first_violation("n\u200bude beach", needs_pose=False) is PromptRule.FORBIDDEN


def test_the_message_names_the_rule_not_the_word() -> None:
    for rule in PromptRule:
        assert rule.message
        assert not any(word in rule.message.split() for word in keywords.FORBIDDEN_KEYWORDS)


def test_every_list_entry_matches_itself_and_lists_do_not_overlap_by_mistake() -> None:
    for word in keywords.FORBIDDEN_KEYWORDS:
        assert keywords.contains_forbidden(f"a {word} here"), word
    for word in keywords.POSE_KEYWORDS:
        assert keywords.mentions_pose(f"a {word} here"), word
    # A pose keyword that were also forbidden would refuse every prompt that uses it.
    assert not set(keywords.POSE_KEYWORDS) & set(keywords.FORBIDDEN_KEYWORDS)


def test_dashes_are_every_pd_code_point_of_this_python() -> None:
    pd = {chr(code) for code in range(0x110000) if unicodedata.category(chr(code)) == "Pd"}
    assert pd <= set(keywords.DASHES)


def test_the_canonical_form() -> None:
    assert keywords.canonical("Ｍｉｃｋｅｙ\u00a0\u00a0_\u2010Ｍｏｕｓｅ") == keywords.canonical(
        "mickey mouse"
    )
    assert keywords.canonical("Caf\u0065\u0301") == "cafe"
    assert keywords.canonical("  a \t\n b  ") == "a b"


DEFAULT_IGNORABLES = [
    "\u00ad",
    "\u034f",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\u2063",
    "\ufeff",
    "\ufe0f",
]
SINGLE_WORDS = [word for word in keywords.FORBIDDEN_KEYWORDS if word.isalpha()]


@given(
    word=st.sampled_from(SINGLE_WORDS),
    inserts=st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(DEFAULT_IGNORABLES)), max_size=6),
    upper=st.lists(st.booleans(), min_size=20, max_size=20),
)
def test_default_ignorables_and_case_never_let_a_forbidden_word_pass(
    word: str, inserts: list[tuple[int, str]], upper: list[bool]
) -> None:
    disguised = "".join(char.upper() if flip else char for char, flip in zip(word, upper, strict=False))
    for position, invisible in inserts:
        cut = position % (len(disguised) + 1)
        disguised = disguised[:cut] + invisible + disguised[cut:]
    assert keywords.contains_forbidden(f"standing pose, {disguised}, outdoors")


@given(
    phrase=st.sampled_from([word for word in keywords.FORBIDDEN_KEYWORDS if " " in word]),
    separator=st.sampled_from([" ", "  ", "_", "-", "\u2010", "\u2013", "\u00a0", "\t", " _ ", ""]),
)
def test_any_separator_inside_a_phrase_still_matches(phrase: str, separator: str) -> None:
    assert keywords.contains_forbidden(f"standing like {phrase.replace(' ', separator)} today")


# --- over HTTP ---------------------------------------------------------------------------------


async def generation_count(db: Database) -> int:
    async with db.session(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(Generation)) or 0)


async def test_post_generate_refuses_every_bypass_and_accepts_near_misses(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings, credits=100_000, poses=1)
    base = {"projectId": world.project.id, "generationType": "TEXT_DESCRIPTION", "variationCount": 1}
    for prompt, rule in REFUSED:
        response = await submit(client, world.headers, {**base, "textPrompt": prompt})
        assert response.status_code == 400, (prompt, response.text)
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR", prompt
        assert error["field"] == "textPrompt", prompt
        assert error["details"]["issues"][0]["type"] == rule.value, (prompt, error)
    assert await generation_count(db) == 0
    for prompt in PASSES:
        response = await submit(client, world.headers, {**base, "textPrompt": prompt})
        assert response.status_code == 202, (prompt, response.text)
    assert await generation_count(db) == len(PASSES)


async def test_post_generate_checks_background_prompts_with_the_same_rules(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings, credits=100_000, poses=1)
    base = {
        "projectId": world.project.id,
        "generationType": "TEXT_DESCRIPTION",
        "textPrompt": "standing pose",
        "variationCount": 1,
        "useBackgroundChanger": True,
        "backgroundMode": "ai_generate",
    }
    refused = [(prompt.replace(" standing pose", ""), rule) for prompt, rule in REFUSED if rule is not MINOR]
    for prompt, rule in refused:
        response = await submit(client, world.headers, {**base, "backgroundPrompt": prompt})
        assert response.status_code == 400, (prompt, response.text)
        error = response.json()["error"]
        assert error["field"] == "backgroundPrompt", (prompt, error)
        assert error["details"]["issues"][0]["type"] == rule.value, (prompt, error)
    assert await generation_count(db) == 0
    response = await submit(client, world.headers, {**base, "backgroundPrompt": "a quiet beach in Sussex"})
    assert response.status_code == 202, response.text
