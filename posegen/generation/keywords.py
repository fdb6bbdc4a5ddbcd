"""Prompt rules of DATA.md, matched on a canonical form that Unicode tricks cannot dodge.

Every list of words the prompt rules use lives here and nowhere else.

What is stored is the prompt as written (trimmed, NFC: `normalise`). What the
rules look at is derived from it:

- `folded`: compatibility-normalised (NFKC: fullwidth and mathematical
  letters become plain ones), default-ignorable code points removed (zero-width
  space, soft hyphen, joiners, bidi controls, variation selectors…), combining
  marks removed (an accent cannot split or disguise a word), case-folded. The
  markup and repetition rules run on it.
- `canonical`: the folded text mapped to its confusable skeleton (Unicode
  TS #39: a Cyrillic `е` is an `e`, `1` and `I` are `l`, `m` is `rn`), with
  every run of separators — whitespace of any kind, `_`, every hyphen and
  dash — made one space. Keyword lists are put through the same function, so
  a keyword matches whatever looks like it. Matching is whole-word and the
  words of a phrase may be written apart, hyphenated or joined: `spider man`,
  `spider_man`, `spider‐man` and `spiderman` are one phrase, while `skills`
  never contains `kill` nor `Sussex` `sex`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum
from functools import cache

from confusable_homoglyphs.confusables import confusables_data

FORBIDDEN_KEYWORDS: tuple[str, ...] = (
    # explicit (DATA.md)
    "nude", "naked", "nsfw", "explicit", "porn", "pornographic", "sexual", "sex", "xxx", "erotic", "hentai",
    "lewd",
    # explicit and sexualised (grown from DATA.md: inflections the whole-word match would miss, and
    # terms that sexualise a pose; bikini, swimwear and underwear stay allowed for adults' product photos)
    "nudes", "nudity", "porno", "erotica", "sexy", "sexier", "sexiest", "sexually", "sexualised",
    "sexualized", "lingerie", "topless", "bottomless", "braless", "undressed", "undressing", "unclothed",
    "seductive", "seductively", "seduction", "seducing", "provocative", "provocatively", "sensual",
    "sensually", "striptease", "stripper", "strippers", "fetish", "bdsm", "bondage", "kinky", "horny",
    "orgasm", "genitals", "genitalia", "nipple", "nipples", "boobs", "busty", "cleavage", "upskirt",
    "boudoir", "onlyfans", "playboy", "milf", "ecchi", "loli", "lolita", "shota",
    # the same in Bahasa Indonesia (naked, nude, sexy, porn, lewd)
    "telanjang", "bugil", "seksi", "bokep", "mesum",
    # copyrighted characters (DATA.md)
    "mickey mouse", "minnie mouse", "donald duck", "spiderman", "spider-man", "superman", "batman",
    "wonder woman", "iron man", "captain america", "hulk", "thor", "pokemon", "pikachu", "naruto", "goku",
    "sonic", "mario", "luigi", "zelda", "hello kitty", "spongebob",
    # harmful (DATA.md)
    "hitler", "nazi", "terrorist", "terrorism", "violence", "violent", "gore", "bloody", "murder", "kill",
    "suicide", "drug", "cocaine", "heroin", "meth",
)  # fmt: skip

MINOR_TERMS: tuple[str, ...] = (
    "child", "children", "kid", "kids", "kiddo", "toddler", "toddlers", "baby", "babies", "infant",
    "infants", "newborn", "minor", "minors", "underage", "under age", "teen", "teens", "teenager",
    "teenagers", "teenage", "preteen", "preteens", "tween", "tweens", "schoolgirl", "schoolgirls",
    "schoolboy", "schoolboys", "school girl", "school boy", "little girl", "little boy", "young girl",
    "young boy",
    # Bahasa Indonesia: child, toddler, baby, teenager, kid, schoolgirl
    "anak", "balita", "bayi", "remaja", "bocah", "siswi",
)  # fmt: skip
"""Words that make a prompt about a minor (`MINOR_AGES` adds ages under 18). Not bare "minor":
it is far more often "a minor adjustment" than a person."""

MINOR_LOOKALIKES: tuple[str, ...] = (
    "baby blue", "baby pink", "baby bump", "baby hair", "baby hairs", "child's pose", "childs pose",
    "child pose", "kid gloves", "kid leather", "anak tangga",
)  # fmt: skip
"""Phrases where a minor's word means something else (a colour, a yoga pose, a stair step)."""

MINOR_AGES = (
    r"(?<!\d)(?:[1-9]|1[0-7]) ?(?:years? ?old|yrs? ?old|yo|tahun)(?!\w)",
    r"(?<!\w)(?:aged?|usia|umur) ?(?:[1-9]|1[0-7])(?!\d)",
    r"(?<!\w)under ?(?:18|eighteen)(?!\d)",
)
"""Ages under 18, matched on the folded text (the skeleton turns digits into letters)."""

BODY_AND_CLOTHING_TERMS: tuple[str, ...] = (
    "body", "bodies", "skin", "chest", "breast", "breasts", "thigh", "thighs", "butt", "buttocks", "curves",
    "curvy", "shirtless", "bikini", "bikinis", "lingerie", "underwear", "undies", "panties", "bra", "bras",
    "swimsuit", "swimsuits", "swimwear", "bathing suit", "swimming costume",
    # Bahasa Indonesia: underwear (two words for it), swimsuit
    "pakaian dalam", "celana dalam", "baju renang",
)  # fmt: skip
"""Words that, next to a minor, make the prompt one the service refuses."""

POSE_FRAMING: tuple[str, ...] = ("full body", "full-body", "whole body", "upper body", "lower body")
"""Framing phrases: "body" in them is a shot size, not a body, for the minor rule."""

POSE_KEYWORDS: tuple[str, ...] = (
    "pose", "posing", "position", "posture", "stance", "gesture", "body", "standing", "stand", "upright",
    "sitting", "sit", "seated", "chair", "walking", "walk", "running", "run", "jumping", "jump", "reaching",
    "reach", "stretching", "stretch", "leaning", "lean", "arms", "hands", "waving", "wave", "pointing",
    "point", "crossed arms", "hands on hips", "professional", "business", "formal", "confident", "casual",
    "relaxed", "natural", "comfortable", "full body", "full-body", "whole body", "upper body", "lower body",
)  # fmt: skip

MARKUP_TAGS: tuple[str, ...] = (
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "style", "link", "meta", "base",
    "svg", "math", "form", "img", "image", "video", "audio", "source", "template", "xml", "html", "body",
)  # fmt: skip
"""Elements refused even when written `< script` (a space browsers forgive in some parsers)."""

MARKUP_SCHEMES: tuple[str, ...] = (
    "javascript:",
    "vbscript:",
    "livescript:",
    "data:text/html",
    "data:image/svg",
)
"""URL schemes that run code, matched with every space and control removed (`java\tscript:`)."""

REPEAT_LIMIT = 10
"""A character repeated this many times in a row is refused."""


class PromptRule(StrEnum):
    """The prompt rules, in the order they are checked; the value is the error type."""

    MARKUP = "prompt_markup"
    REPETITION = "prompt_repetition"
    FORBIDDEN = "prompt_forbidden_keyword"
    MINOR = "prompt_minor"
    POSE = "prompt_no_pose_keyword"

    @property
    def message(self) -> str:
        """What the error says: the rule, never the word that broke it."""
        return _MESSAGES[self]


_MESSAGES = {
    PromptRule.MARKUP: "must not contain HTML or script",
    PromptRule.REPETITION: f"must not repeat a character {REPEAT_LIMIT} or more times in a row",
    PromptRule.FORBIDDEN: "contains a forbidden keyword",
    PromptRule.MINOR: "must not pair a child or minor with body or clothing words",
    PromptRule.POSE: "must describe a pose (e.g. standing, sitting, arms crossed)",
}


# --- canonical forms -------------------------------------------------------------------------

# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties.txt; Python's unicodedata does not
# expose the property). These render as nothing, so they can sit inside a word unseen.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)  # fmt: skip
_IGNORABLE = re.compile(
    "["
    + "".join(f"{chr(low)}-{chr(high)}" if low != high else chr(low) for low, high in _DEFAULT_IGNORABLE)
    + "]"
)
# Separators between words: any whitespace (NBSP, ideographic space, tab…), the underscore, the
# minus sign and every dash or hyphen (general category Pd, listed in `DASHES`). Several in a
# row count as one.
DASHES = (
    "\u002d\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2e17\u2e1a\u2e3a\u2e3b"
    "\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead"
)
"""Every code point of general category Pd (dash punctuation) as of Unicode 14 and 15."""
_SEPARATORS = re.compile("[\\s_\u2212" + re.escape(DASHES) + "]+")


def normalise(text: str) -> str:
    """Trimmed, NFC-normalised text (what is stored and shown)."""
    return unicodedata.normalize("NFC", text).strip()


def _without_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(char for char in decomposed if not unicodedata.category(char).startswith("M"))


def folded(text: str) -> str:
    """NFKC, without default-ignorables or combining marks, case-folded (markup and repetition rules)."""
    text = _IGNORABLE.sub("", text)
    # NFKC can produce an ignorable (a halfwidth filler becomes a Hangul filler): remove again.
    text = _IGNORABLE.sub("", unicodedata.normalize("NFKC", text))
    return _without_marks(text).casefold()


@cache
def _skeleton_table() -> dict[int, str]:
    """Every confusable character → the prototype of its class (TS #39 `confusables.txt`).

    `confusable-homoglyphs` keeps each pair of `confusables.txt` in both
    directions, so the classes are rebuilt (each is a star: sources around
    one prototype) and one member chosen as the class's prototype: the
    multi-character one if any (only prototypes are sequences, `m` → `rn`),
    else the one with several confusables (the hub), else, for a pair, the
    ASCII one or the lower code point. Text and keywords go through the same
    table, so what matters is that confusable characters meet, not which
    member is named.
    """
    parent: dict[str, str] = {}

    def root(item: str) -> str:
        while (up := parent.setdefault(item, item)) != item:
            parent[item] = parent.setdefault(up, up)
            item = up
        return item

    degree: dict[str, int] = {}
    for key, entries in confusables_data.items():
        # Right-to-left characters are stored wrapped in left-to-right marks for display.
        source = key.replace("\u200e", "")
        degree[source] = len(entries)
        for entry in entries:
            left, right = root(source), root(entry["c"].replace("\u200e", ""))
            if left != right:
                parent[left] = right
    classes: dict[str, list[str]] = {}
    for member in list(parent):
        classes.setdefault(root(member), []).append(member)
    table: dict[int, str] = {}
    for members in classes.values():
        prototype = min(
            members,
            key=lambda m: (len(m) == 1, -degree.get(m, 0), not m.isascii(), [ord(c) for c in m]),
        )
        for member in members:
            if len(member) == 1 and member != prototype:
                table[ord(member)] = prototype
    return table


def _words(text: str) -> str:
    return _SEPARATORS.sub(" ", text).strip()


def canonical(text: str) -> str:
    """What keywords are matched on: folded, mapped to its confusable skeleton, separators one space."""
    # Separators are made spaces before the skeleton too, so a dash it maps elsewhere still separates.
    skeleton = _words(folded(text)).translate(_skeleton_table())
    # A prototype may carry marks or capitals of its own (`0` → `O`).
    return _words(_without_marks(skeleton).casefold())


# --- matchers --------------------------------------------------------------------------------


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    # Whole words; the words of a phrase may be apart, hyphenated, underscored or joined.
    alternatives = {" ?".join(re.escape(word) for word in canonical(phrase).split(" ")) for phrase in phrases}
    ordered = sorted(alternatives, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(ordered) + r")(?!\w)")


_FORBIDDEN = _phrase_pattern(FORBIDDEN_KEYWORDS)
_POSE = _phrase_pattern(POSE_KEYWORDS)
_MINOR = _phrase_pattern(MINOR_TERMS)
_MINOR_AGE = re.compile("|".join(MINOR_AGES))
_BODY_OR_CLOTHING = _phrase_pattern(BODY_AND_CLOTHING_TERMS)
_FRAMING = _phrase_pattern(POSE_FRAMING)
_LOOKALIKES = _phrase_pattern(MINOR_LOOKALIKES)
_TAG = re.compile(
    r"<\s*/?\s*(?:" + "|".join(MARKUP_TAGS) + r")(?![a-z0-9])"  # a known dangerous element
    r"|</?[a-z][a-z0-9-]*(?:[\s/>]|$)"  # any tag written as a tag
    r"|<[!?]"  # comments, doctypes, processing instructions
    r"|@import"  # CSS that loads more CSS
    r"|(?<![a-z0-9])on[a-z]+\s*="  # event handler attributes
)
_SCHEME = re.compile("|".join(re.escape(scheme) for scheme in MARKUP_SCHEMES))
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")
_REPEATED = re.compile(r"(.)\1{" + str(REPEAT_LIMIT - 1) + ",}", re.DOTALL)


def contains_forbidden(text: str) -> bool:
    """Whether `text` holds a forbidden keyword, however it is disguised."""
    return _FORBIDDEN.search(canonical(text)) is not None


def mentions_pose(text: str) -> bool:
    """Whether `text` names at least one pose keyword."""
    return _POSE.search(canonical(text)) is not None


def pairs_minor_with_body(text: str) -> bool:
    """Whether `text` is about a minor and also names a body part or revealing clothing."""
    words = canonical(text)
    about_minor = (
        _MINOR.search(_LOOKALIKES.sub(" ", words)) is not None
        or _MINOR_AGE.search(_words(folded(text))) is not None
    )
    return about_minor and _BODY_OR_CLOTHING.search(_FRAMING.sub(" ", words)) is not None


def has_markup(text: str) -> bool:
    """Whether `text` holds HTML, a script URL, CSS imports or an event handler, entities decoded too."""
    for form in {folded(text), folded(html.unescape(text))}:
        if _TAG.search(form) or _SCHEME.search(_SPACE_OR_CONTROL.sub("", form)):
            return True
    return False


def has_long_repeat(text: str) -> bool:
    """Whether a character repeats `REPEAT_LIMIT` times in a row (invisible characters between ignored)."""
    return _REPEATED.search(folded(text)) is not None


def first_violation(text: str, *, needs_pose: bool) -> PromptRule | None:
    """The first prompt rule `text` breaks, or None. `needs_pose` asks for the pose-keyword rule too."""
    if has_markup(text):
        return PromptRule.MARKUP
    if has_long_repeat(text):
        return PromptRule.REPETITION
    if contains_forbidden(text):
        return PromptRule.FORBIDDEN
    if pairs_minor_with_body(text):
        return PromptRule.MINOR
    if needs_pose and not mentions_pose(text):
        return PromptRule.POSE
    return None
