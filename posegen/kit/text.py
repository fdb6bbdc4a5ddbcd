"""Text helpers: slugs, and the one rule on control characters in text a client sends.

Every free-text value that reaches the service is checked against one rule
(`control_character`): no C0 or C1 control character, no DEL, no lone
surrogate. PostgreSQL cannot store NUL at all (the driver raises), SQLite
stores it silently, and a lone surrogate cannot be encoded to UTF-8; none of
them is text a person typed. Tab, line feed and carriage return are allowed
only where a field is multi-line (descriptions, prompts); `Line` and
`Paragraph` are the two field types that say which.

The rule is applied twice, from the same function: by the request guard
(`posegen.observability.text_guard`) on every JSON body, form field, query
parameter and path parameter, so no field can be forgotten; and by the
`Line`/`Paragraph` types, which add the single-line rule per field and keep a
schema safe when it is validated outside HTTP.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

# C0 controls but tab, LF and CR; DEL; C1 controls; lone surrogates (a JSON body can carry "\ud800").
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# What ends or splits a line: forbidden in single-line fields on top of the controls above.
_LINE_BREAK = re.compile("[\t\n\r\u2028\u2029]")

JSON_SCHEMA_KEY = "x-text"
"""OpenAPI extension naming a string field's text policy: `line` or `paragraph`."""


def control_character(text: str, *, multiline: bool) -> str | None:
    """The first character `text` may not contain, or None when it is clean.

    `multiline` allows tab, line feed, carriage return and the Unicode line and
    paragraph separators; without it they are refused too.
    """
    match = _CONTROL.search(text)
    if match is None and not multiline:
        match = _LINE_BREAK.search(text)
    return match.group() if match else None


def describe(character: str) -> str:
    """`U+0000` for a character: how an error names what it refused without echoing it."""
    return f"U+{ord(character):04X}"


def control_message(character: str, *, multiline: bool) -> str:
    """The human message for a refused character (the same wherever the rule runs)."""
    if not multiline and _LINE_BREAK.fullmatch(character):
        return f"must be a single line (no tab or line break, found {describe(character)})"
    return f"must not contain control characters (found {describe(character)})"


@dataclass(frozen=True)
class TextPolicy:
    """Annotated metadata that applies the control-character rule to a `str` field.

    Use `LINE` or `PARAGRAPH` as the last item of an `Annotated` (after any
    length or strip constraints, which then keep their own messages), or the
    aliases `Line` and `Paragraph` where a field has no other constraint.
    """

    multiline: bool

    def check(self, value: object) -> object:
        """The value unchanged, or a validation error when it holds a refused character."""
        if not isinstance(value, str):
            return value  # None of an optional field
        found = control_character(value, multiline=self.multiline)
        if found is not None:
            raise PydanticCustomError("control_character", control_message(found, multiline=self.multiline))
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        # Runs after the string constraints (strip, lengths) of the same annotation.
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema[JSON_SCHEMA_KEY] = "paragraph" if self.multiline else "line"
        return json_schema


LINE = TextPolicy(multiline=False)
"""Single-line text: names, titles, ids, search terms. No control character, tab or line break."""

PARAGRAPH = TextPolicy(multiline=True)
"""Multi-line text: descriptions, prompts, notes. Tab and line breaks allowed, other controls not."""

Line = Annotated[str, LINE]
"""A `str` under `LINE`, for fields without other constraints (list items, free keys)."""

Paragraph = Annotated[str, PARAGRAPH]
"""A `str` under `PARAGRAPH`, for fields without other constraints."""


def slugify(text: str, max_length: int = 100) -> str:
    """Lower-case ASCII words joined by hyphens ("100% Confident!" → "100-confident")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "item"
