"""The one base model every API schema derives from: camelCase JSON, strict bodies.

Two ways in, two sets of rules:

- **From the wire** (FastAPI validates request bodies with the model's own
  schema): camelCase keys only, so `project_id` is an unknown field, and no
  type coercion: `"1"`, `1.0` and `true` are not integers, `1` and `"yes"` are
  not booleans, numbers are not strings.
- **From Python** (`Model(field=…)`, `Model.model_validate(row)`): field names
  and lax types, as the service code builds its answers from rows and dicts.

Strict validation of Python objects refuses the string forms of enums and
datetimes, which JSON has no other way to write: request fields of those types
are annotated `WireEnum` / typed `UtcDateTime`, so the string form is read
while every other type stays strict (tests/test_openapi.py checks every body).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, Strict
from pydantic.alias_generators import to_camel

from posegen.kit.time import isoformat_z


def _datetime_text(value: object) -> object:
    # Lax datetime parsing would also take a number (Unix seconds); JSON bodies must write a string.
    if isinstance(value, datetime | str):
        return value
    raise ValueError("must be a date-time string (ISO 8601)")


UtcDateTime = Annotated[
    datetime,
    Strict(False),
    BeforeValidator(_datetime_text),
    PlainSerializer(isoformat_z, return_type=str, when_used="json"),
]
"""A datetime written as ISO-8601 UTC with `Z`; read from an ISO-8601 string, never a number."""

WireEnum = Strict(False)
"""Marks an enum field of a request body (`Annotated[Role, WireEnum]`): read from its JSON string."""


class FieldError(ValueError):
    """A rule of a schema that spans fields, raised from a model validator, naming the field at fault.

    Pydantic places a model validator's error at the model itself; the error
    handler (posegen.errors) reads `field` (camelCase, relative to that model) so the client is
    told which field to change.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Schema(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields are refused; bodies are strict."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        from_attributes=True,
        str_strip_whitespace=False,
        strict=True,
    )

    def __init__(self, /, **data: Any) -> None:
        """Build from Python: by field name (or alias), with lax types."""
        __tracebackhide__ = True
        self.__pydantic_validator__.validate_python(data, self_instance=self, strict=False, by_name=True)

    # Pydantic calls a model's own `__init__` for nested values when it is overridden; this one
    # only changes how Python code builds models, so nested wire values keep the strict schema.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]  # pydantic's marker of its own __init__

    @classmethod
    def model_validate(
        cls,
        obj: Any,
        *,
        strict: bool | None = None,
        extra: Any = None,
        from_attributes: bool | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        """Validate rows and dicts built by the service: by name or alias, lax unless asked."""
        __tracebackhide__ = True
        return super().model_validate(
            obj,
            strict=False if strict is None else strict,
            extra=extra,
            from_attributes=from_attributes,
            context=context,
            by_alias=by_alias,
            by_name=True if by_name is None else by_name,
        )


# Wire input is camelCase only: FastAPI validates bodies with each model's own schema, which
# takes this. Python construction passes `by_name=True` itself (`__init__`, `model_validate`).
# Set after the class statement so the pydantic mypy plugin keeps typing `__init__` by field
# name, which is what `__init__` accepts; subclasses inherit the value when they are built.
Schema.model_config["validate_by_name"] = False


class Deleted(Schema):
    """The answer of a delete: `{"success": true}`."""

    success: Literal[True] = True
