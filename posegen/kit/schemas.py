"""The one base model every API schema derives from: camelCase JSON, strict bodies."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

from posegen.kit.time import isoformat_z

UtcDateTime = Annotated[datetime, PlainSerializer(isoformat_z, return_type=str, when_used="json")]
"""A datetime written as ISO-8601 UTC with `Z`."""


class Schema(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields are refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        from_attributes=True,
        str_strip_whitespace=False,
    )
