"""The base model: strict and camelCase from the wire, by name and lax from Python."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from posegen.kit.schemas import Schema, UtcDateTime, WireEnum


class Colour(StrEnum):
    RED = "red"


class Inner(Schema):
    max_size: int


class Probe(Schema):
    batch_size: int = 1
    is_on: bool = False
    label: str = "x"
    colour: Annotated[Colour, WireEnum] = Colour.RED
    at: UtcDateTime | None = None
    inner: Inner | None = None


# FastAPI validates a body with the model's own schema, exactly like this.
WIRE: TypeAdapter[Probe] = TypeAdapter(Probe)

JSON_NON_INT = st.one_of(
    st.booleans(), st.floats(allow_nan=False), st.text(), st.none(), st.lists(st.integers(), max_size=2)
)


@given(JSON_NON_INT)
def test_an_int_field_takes_only_ints_from_the_wire(value: Any) -> None:
    with pytest.raises(ValidationError):
        WIRE.validate_python({"batchSize": value})


@given(st.integers())
def test_an_int_field_takes_every_int(value: int) -> None:
    assert WIRE.validate_python({"batchSize": value}).batch_size == value


@given(st.one_of(st.integers(), st.text(), st.floats(allow_nan=False), st.none()))
def test_a_bool_field_takes_only_booleans_and_a_str_field_only_strings(value: Any) -> None:
    with pytest.raises(ValidationError):
        WIRE.validate_python({"isOn": value})
    if not isinstance(value, str):
        with pytest.raises(ValidationError):
            WIRE.validate_python({"label": value})


def test_snake_case_keys_are_unknown_on_the_wire_even_nested() -> None:
    with pytest.raises(ValidationError) as refused:
        WIRE.validate_python({"batch_size": 2})
    assert refused.value.errors()[0]["type"] == "extra_forbidden"
    with pytest.raises(ValidationError):
        WIRE.validate_python({"inner": {"max_size": 2}})
    assert WIRE.validate_python({"inner": {"maxSize": 2}}).inner == Inner(max_size=2)


def test_enums_and_datetimes_come_as_strings_never_numbers() -> None:
    probe = WIRE.validate_python({"colour": "red", "at": "2026-01-01T00:00:00Z"})
    assert probe.colour is Colour.RED and probe.at is not None and probe.at.year == 2026
    for body in ({"colour": 1}, {"colour": "blue"}, {"at": 1_767_225_600}):
        with pytest.raises(ValidationError):
            WIRE.validate_python(body)


def test_python_builds_by_name_with_lax_types() -> None:
    built = Probe.model_validate({"batch_size": "3", "is_on": 1, "colour": "red", "inner": {"max_size": 1}})
    assert (built.batch_size, built.is_on, built.inner) == (3, True, Inner(max_size=1))
    assert Probe(batch_size=2).batch_size == 2
    # Answers are written camelCase.
    assert Probe(batch_size=2).model_dump(mode="json")["batchSize"] == 2
