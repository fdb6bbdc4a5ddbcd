"""Project and upload bodies and views."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator

from posegen.imaging.look import COLOURS, HEAD_COVERINGS, SKIN_TONES, parse_colour
from posegen.kit.pagination import Pagination
from posegen.kit.schemas import Schema, UtcDateTime, WireEnum
from posegen.kit.text import LINE, PARAGRAPH
from posegen.projects.models import ProjectStatus

Text = StringConstraints(strip_whitespace=True)
ProjectName = Annotated[str, Text, Field(min_length=1, max_length=100), LINE]
Description = Annotated[str, Text, Field(max_length=500), PARAGRAPH]
AttributeValue = Annotated[str, Text, Field(min_length=1, max_length=50), LINE]


def _blank_to_none(value: str | None) -> str | None:
    # An empty description means "no description": one representation, not two.
    return value or None


class AvatarAttributes(Schema):
    """How the project's avatar looks; free text, each value 1–50 characters, except `skinTone`,
    `clothingColor` (a name or `#rrggbb`) and `headCovering` (none, hijab, khimar, turban), which the
    mannequin draws. Unknown keys are refused."""

    gender: AttributeValue | None = None
    age_range: AttributeValue | None = None
    ethnicity: AttributeValue | None = None
    style: AttributeValue | None = None
    body_type: AttributeValue | None = None
    hair_style: AttributeValue | None = None
    # Drawn by the mannequin engine; a name from the lists in `posegen.imaging.look` or `#rrggbb`.
    skin_tone: AttributeValue | None = None
    clothing_color: AttributeValue | None = None
    head_covering: AttributeValue | None = None

    @field_validator("skin_tone")
    @classmethod
    def _skin_tone(cls, value: str | None) -> str | None:
        if value is not None and parse_colour(value, SKIN_TONES) is None:
            raise ValueError(f"must be #rrggbb or one of: {', '.join(SKIN_TONES)}")
        return value.lower() if value is not None else None

    @field_validator("clothing_color")
    @classmethod
    def _clothing_color(cls, value: str | None) -> str | None:
        if value is not None and parse_colour(value, COLOURS) is None:
            raise ValueError(f"must be #rrggbb or one of: {', '.join(COLOURS)}")
        return value.lower() if value is not None else None

    @field_validator("head_covering")
    @classmethod
    def _head_covering(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in HEAD_COVERINGS:
            raise ValueError(f"must be one of: {', '.join(HEAD_COVERINGS)}")
        return value.lower() if value is not None else None

    def stored(self) -> dict[str, Any]:
        """The attributes as kept in the database: only the keys that are set, snake_case."""
        return self.model_dump(by_alias=False, exclude_none=True)


class ProjectCreate(Schema):
    project_name: ProjectName
    description: Description | None = None
    avatar_attributes: AvatarAttributes | None = None

    _description = field_validator("description")(_blank_to_none)


class ProjectUpdate(Schema):
    """Only the fields given change; `description: null` clears it, `avatarAttributes` replaces them all."""

    project_name: ProjectName | None = None
    description: Description | None = None
    status: Annotated[ProjectStatus, WireEnum] | None = None
    avatar_attributes: AvatarAttributes | None = None

    _description = field_validator("description")(_blank_to_none)

    @field_validator("project_name", "status")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Runs only for values the client sent (defaults are not validated): a project always
        # has a name and a status, so an explicit null is a mistake, not a request.
        if value is None:
            raise ValueError("cannot be null")
        return value


class ProjectOut(Schema):
    id: str
    project_name: str
    description: str | None
    status: ProjectStatus
    avatar_attributes: AvatarAttributes
    avatar_url: str | None
    total_generations: int
    total_poses_generated: int
    created_at: UtcDateTime
    updated_at: UtcDateTime


class ProjectDetail(ProjectOut):
    # The generation work replaces `dict[str, Any]` with its own summary schema.
    generations: list[dict[str, Any]]


class ProjectResult(Schema):
    project: ProjectOut


class ProjectDetailResult(Schema):
    project: ProjectDetail


class ProjectList(Schema):
    projects: list[ProjectOut]
    pagination: Pagination


class UploadOut(Schema):
    id: str
    url: str
    width: int
    height: int
    bytes: int


class UploadResult(Schema):
    upload: UploadOut
