"""The control-character rule and the `LINE`/`PARAGRAPH` field policies."""

from __future__ import annotations

from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import Field, StringConstraints, ValidationError

from posegen.kit.schemas import Schema
from posegen.kit.text import JSON_SCHEMA_KEY, LINE, PARAGRAPH, Line, control_character, control_message

ALWAYS_REFUSED = [
    chr(code) for code in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))
]
LINE_BREAKS = ["\t", "\n", "\r", "\u2028", "\u2029"]


class Sample(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True), Field(min_length=1, max_length=10), LINE]
    notes: Annotated[str | None, Field(max_length=50), PARAGRAPH] = None
    tags: list[Line] = Field(default_factory=list)


@pytest.mark.parametrize("character", ALWAYS_REFUSED, ids=lambda c: f"U+{ord(c):04X}")
def test_every_c0_c1_control_and_del_is_refused_even_in_paragraphs(character: str) -> None:
    text = f"ab{character}cd"
    assert control_character(text, multiline=True) == character
    assert control_character(text, multiline=False) == character
    with pytest.raises(ValidationError) as raised:
        Sample(name="ok", notes=text)
    [error] = raised.value.errors()
    assert error["type"] == "control_character"
    assert error["loc"] == ("notes",)
    assert f"U+{ord(character):04X}" in error["msg"]
    assert character not in error["msg"]


def test_a_lone_surrogate_is_refused() -> None:
    # A JSON body can carry "\ud800"; it cannot be encoded to UTF-8 for the database.
    assert control_character("a\ud800b", multiline=True) == "\ud800"


@pytest.mark.parametrize("character", LINE_BREAKS, ids=lambda c: f"U+{ord(c):04X}")
def test_line_breaks_and_tab_only_where_the_field_is_multiline(character: str) -> None:
    assert control_character(f"a{character}b", multiline=True) is None
    assert control_character(f"a{character}b", multiline=False) == character
    assert Sample(name="ok", notes=f"first{character}second").notes == f"first{character}second"
    with pytest.raises(ValidationError) as raised:
        Sample(name=f"a{character}b")
    assert raised.value.errors()[0]["msg"].startswith("must be a single line")
    with pytest.raises(ValidationError):
        Sample(name="ok", tags=["fine", f"a{character}b"])


def test_ordinary_text_passes_unchanged() -> None:
    text = "Hijab pastel — café, naïve 東京 🙂 «quotes» NBSP\u00a0ok"
    assert control_character(text, multiline=False) is None
    assert Sample(name=" Ada ", notes=text, tags=["a b"]).name == "Ada"


def test_the_policy_keeps_the_length_messages_of_the_constraints_before_it() -> None:
    with pytest.raises(ValidationError) as raised:
        Sample(name="x" * 11)
    assert raised.value.errors()[0]["type"] == "string_too_long"


def test_the_policy_is_documented_in_the_json_schema() -> None:
    properties = Sample.model_json_schema()["properties"]
    assert properties["name"][JSON_SCHEMA_KEY] == "line"
    assert properties["notes"][JSON_SCHEMA_KEY] == "paragraph"
    assert properties["tags"]["items"][JSON_SCHEMA_KEY] == "line"


def test_the_message_names_the_code_point_not_the_character() -> None:
    assert control_message("\x00", multiline=True) == "must not contain control characters (found U+0000)"
    assert (
        control_message("\n", multiline=False) == "must be a single line (no tab or line break, found U+000A)"
    )


@given(
    before=st.text(max_size=20),
    control=st.sampled_from(ALWAYS_REFUSED),
    after=st.text(max_size=20),
)
def test_any_text_with_a_control_character_is_refused(before: str, control: str, after: str) -> None:
    assert control_character(before + control + after, multiline=True) is not None
    with pytest.raises(ValidationError):
        Sample(name="ok", notes=before + control + after)


@given(st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"))))
def test_text_without_controls_or_breaks_is_always_a_valid_line(text: str) -> None:
    assert control_character(text, multiline=False) is None
