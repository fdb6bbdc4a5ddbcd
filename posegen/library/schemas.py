"""Catalogue, favorites and pose-request bodies and views."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import Field, StringConstraints, field_validator, model_validator

from posegen.kit.pagination import Pagination
from posegen.kit.schemas import FieldError, Schema, UtcDateTime, WireEnum
from posegen.kit.text import LINE, PARAGRAPH
from posegen.library.taxonomy import Difficulty, Framing, GenderSuitability

Text = StringConstraints(strip_whitespace=True)


class CategoryRef(Schema):
    id: str
    slug: str
    name: str


class CategoryNode(Schema):
    id: str
    slug: str
    name: str
    description: str
    icon: str
    color: str
    display_order: int
    pose_count: int
    children: list[CategoryNode]


class CategoryTree(Schema):
    categories: list[CategoryNode]
    total_categories: int


class KeypointsOut(Schema):
    format: Literal["openpose-18"]
    points: list[list[float]]


class KeypointsIn(Schema):
    """18 `[x, y, confidence]` with x, y in 0–1 (confidence 0: the joint is absent)."""

    format: Annotated[Literal["openpose-18"], LINE] = "openpose-18"
    points: Annotated[list[Annotated[list[float], Field(min_length=3, max_length=3)]], Field(max_length=18)]


class PoseOut(Schema):
    id: str
    slug: str
    name: str
    description: str
    category: CategoryRef
    tags: list[str]
    difficulty: str
    gender_suitability: str
    framing: str
    is_featured: bool
    is_premium: bool
    usage_count: int = Field(
        description="Completed generated poses made from this pose (counted as each generation ends)."
    )
    favorite_count: int
    is_favorite: bool
    source: str = Field(description="`curated`, `admin` or `user` (made from keypoints by a user).")
    is_mine: bool = Field(description="The caller's own private pose (`GET /library?mine=true`).")
    preview_url: str | None
    thumbnail_url: str | None
    control_map_url: str | None


class PoseDetail(PoseOut):
    keypoints: KeypointsOut


class PoseList(Schema):
    poses: list[PoseOut]
    pagination: Pagination


class PoseResult(Schema):
    pose: PoseDetail


class FavoriteResult(Schema):
    pose_id: str
    is_favorite: bool
    favorite_count: int


class ExportFormatOut(Schema):
    key: str
    width: int | None
    height: int | None
    aspect: str
    format: str
    quality: int | None


class ExportFormats(Schema):
    formats: list[ExportFormatOut]


# --- pose requests -------------------------------------------------------------------------


class PoseRequestCreate(Schema):
    pose_name: Annotated[str, Text, Field(min_length=3, max_length=100), LINE]
    description: Annotated[str, Text, Field(min_length=10, max_length=1000), PARAGRAPH]
    category_id: Annotated[str | None, Field(max_length=64), LINE] = None
    use_case: Annotated[str | None, Text, Field(max_length=200), LINE] = None
    reference_upload_id: Annotated[str | None, Field(max_length=64), LINE] = None
    keypoints: KeypointsIn | None = Field(
        None, description="The pose wanted, e.g. as `POST /poses/from-photo` detected it in a photo."
    )


class PoseRequestOut(Schema):
    """A pose request; `userId`, `referenceUploadId` and `keypoints` are null on other users' requests."""

    id: str
    user_id: str | None
    pose_name: str
    description: str
    category_id: str | None
    use_case: str | None
    reference_upload_id: str | None
    keypoints: KeypointsOut | None
    status: str
    admin_notes: str | None
    completed_pose_id: str | None
    votes_count: int
    has_voted: bool
    is_mine: bool
    created_at: UtcDateTime
    updated_at: UtcDateTime


class PoseRequestResult(Schema):
    request: PoseRequestOut


class PoseRequestList(Schema):
    requests: list[PoseRequestOut]
    pagination: Pagination


class PopularRequests(Schema):
    requests: list[PoseRequestOut]


class AdminNotes(Schema):
    admin_notes: Annotated[str | None, Text, Field(max_length=1000), PARAGRAPH] = None


class RequiredAdminNotes(Schema):
    admin_notes: Annotated[str, Text, Field(min_length=1, max_length=1000), PARAGRAPH]


class CompleteRequest(Schema):
    completed_pose_id: Annotated[str, Field(min_length=1, max_length=64), LINE]
    admin_notes: Annotated[str | None, Text, Field(max_length=1000), PARAGRAPH] = None


class RequestStats(Schema):
    total: int
    pending: int
    approved: int
    in_progress: int
    completed: int
    rejected: int


# --- admin library management ---------------------------------------------------------------

Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=50), LINE
]


class PoseCreate(Schema):
    """A new pose from keypoints: 18 `[x, y, confidence]` (0–1), or the JSON an OpenPose tool wrote."""

    name: Annotated[str, Text, Field(min_length=2, max_length=100), LINE]
    description: Annotated[str, Text, Field(min_length=10, max_length=2000), PARAGRAPH]
    category_id: Annotated[str, Field(min_length=1, max_length=64), LINE]
    tags: Annotated[list[Tag], Field(max_length=20, default_factory=list)]
    difficulty: Annotated[Difficulty, WireEnum] = Difficulty.BEGINNER
    gender_suitability: Annotated[GenderSuitability, WireEnum] = GenderSuitability.UNISEX
    framing: Annotated[Framing, WireEnum] = Framing.FULL_BODY
    is_featured: bool = False
    is_premium: bool = False
    keypoints: list[list[float]] | None = None
    pose_json: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.keypoints is None) == (self.pose_json is None):
            raise FieldError("keypoints", "give exactly one of keypoints or poseJson")
        return self

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, tags: list[str]) -> list[str]:
        return list(dict.fromkeys(tags))


class PoseUpdate(Schema):
    name: Annotated[str | None, Text, Field(min_length=2, max_length=100), LINE] = None
    description: Annotated[str | None, Text, Field(min_length=10, max_length=2000), PARAGRAPH] = None
    category_id: Annotated[str | None, Field(min_length=1, max_length=64), LINE] = None
    tags: Annotated[list[Tag] | None, Field(max_length=20)] = None
    difficulty: Annotated[Difficulty, WireEnum] | None = None
    gender_suitability: Annotated[GenderSuitability, WireEnum] | None = None
    framing: Annotated[Framing, WireEnum] | None = None
    is_featured: bool | None = None
    is_premium: bool | None = None
    is_public: bool | None = None


HexColor = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$"), LINE]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64), LINE]


class CategoryCreate(Schema):
    slug: Slug
    name: Annotated[str, Text, Field(min_length=2, max_length=100), LINE]
    description: Annotated[str, Text, Field(max_length=500), PARAGRAPH] = ""
    parent_id: Annotated[str | None, Field(max_length=64), LINE] = None
    icon: Annotated[str, Text, Field(max_length=64), LINE] = ""
    color: HexColor = "#64748B"
    display_order: Annotated[int, Field(ge=0, le=10_000)] = 0


class CategoryUpdate(Schema):
    name: Annotated[str | None, Text, Field(min_length=2, max_length=100), LINE] = None
    description: Annotated[str | None, Text, Field(max_length=500), PARAGRAPH] = None
    icon: Annotated[str | None, Text, Field(max_length=64), LINE] = None
    color: HexColor | None = None
    display_order: Annotated[int | None, Field(ge=0, le=10_000)] = None
    is_active: bool | None = None


class CategoryOut(Schema):
    id: str
    slug: str
    name: str
    description: str
    parent_id: str | None
    icon: str
    color: str
    display_order: int
    is_active: bool


class CategoryResult(Schema):
    category: CategoryOut


# --- poses from photos and users' own poses -------------------------------------------------


class FromPhotoRequest(Schema):
    upload_id: Annotated[str, Field(min_length=1, max_length=64), LINE]


class FromPhotoResult(Schema):
    """The detected pose on a square frame (the photo centred on a square of its longer side); the
    control map is drawn on that frame, so it lies exactly over the photo centred on a square."""

    keypoints: KeypointsOut
    control_map_url: str
    framing: str = Field(description="The framing the visible joints suggest (a default for saving).")
    confidence: float = Field(description="The detector's mean visibility of the joints (0–1).")


class CustomPoseCreate(Schema):
    """A private pose of the caller's from 18 keypoints (typically from `POST /poses/from-photo`)."""

    name: Annotated[str, Text, Field(min_length=2, max_length=100), LINE]
    keypoints: KeypointsIn
    framing: Annotated[Framing, WireEnum] = Framing.FULL_BODY
    description: Annotated[str, Text, Field(max_length=2000), PARAGRAPH] = ""
    tags: Annotated[list[Tag], Field(max_length=20, default_factory=list)]
    category_id: Annotated[str | None, Field(max_length=64), LINE] = None

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, tags: list[str]) -> list[str]:
        return list(dict.fromkeys(tags))


class PromotePose(Schema):
    category_id: Annotated[str | None, Field(max_length=64), LINE] = None
