"""Users' own poses: a pose detected in a photo, saved as a private pose, promoted by an admin.

A private pose has `source = "user"`, `owner_id` = its owner and `is_public = False`: only its owner
sees it (`repository.visible_to`), in the library, its detail and gallery generations. An admin's
promotion clears the owner and makes it public; `author_id` keeps who made it.
"""

from __future__ import annotations

import io

import structlog
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from posegen.audit import service as audit
from posegen.auth.models import User
from posegen.errors import Conflict, NotFound, ValidationFailed
from posegen.imaging.control_map import render_control_map
from posegen.imaging.thumbnails import encode_png
from posegen.kit.openpose import L_ANKLE, L_HIP, L_KNEE, R_ANKLE, R_HIP, R_KNEE, Point
from posegen.kit.orm import upsert
from posegen.kit.time import utcnow
from posegen.library import assets, keypoint_import, repository
from posegen.library.admin_library import add_rendered_pose, flush_or_conflict, unique_slug
from posegen.library.errors import PoseDetectionUnavailable, UnusablePhoto
from posegen.library.models import Pose, PoseCategory, PoseSource
from posegen.library.schemas import (
    CustomPoseCreate,
    FromPhotoResult,
    KeypointsOut,
    PoseDetail,
    PromotePose,
)
from posegen.library.service import PoseViews, category_index, search_text
from posegen.library.taxonomy import Framing
from posegen.projects.uploads import get_owned_upload
from posegen.storage.base import Storage
from posegen.vision import photo
from posegen.vision.detection import DetectorUnavailable

log = structlog.get_logger(__name__)

CONTROL_MAP_SIZE = 1024
# Private poses one user may keep: plenty for real use, a bound on what one account can store.
MAX_OWN_POSES = 500
# Where users' poses go unless they name a category; created on first use.
COMMUNITY = {
    "slug": "community",
    "name": "Community",
    "description": "Poses members made from their own photos.",
    "icon": "users",
    "color": "#0D9488",
    "display_order": 1000,
}


def suggested_framing(points: tuple[Point, ...] | list[Point]) -> Framing:
    """Full body when a knee or ankle is seen, upper body when a hip is, else portrait."""
    if any(points[i][2] > 0 for i in (R_KNEE, L_KNEE, R_ANKLE, L_ANKLE)):
        return Framing.FULL_BODY
    if any(points[i][2] > 0 for i in (R_HIP, L_HIP)):
        return Framing.UPPER_BODY
    return Framing.PORTRAIT


def _analyse(data: bytes) -> tuple[photo.PhotoPose, bytes]:
    """Detect the pose in the photo's bytes and draw its control map (CPU-bound)."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (photo.WORKING_SIDE, photo.WORKING_SIDE))  # JPEG decodes smaller, cheaply
        found = photo.pose_from_photo(image)
    # On the square frame as it is (no refitting), so the map lies exactly over the photo centred on
    # a square: the web page shows the skeleton by laying one on the other.
    control = render_control_map(list(found.points), CONTROL_MAP_SIZE, CONTROL_MAP_SIZE)
    return found, encode_png(control)


async def from_photo(session: AsyncSession, storage: Storage, user: User, upload_id: str) -> FromPhotoResult:
    """The pose of the one person in the caller's upload, with its control map stored and signed."""
    upload = await get_owned_upload(session, user.id, upload_id)
    data = await storage.get(upload.storage_key)
    try:
        found, control_png = await run_in_threadpool(_analyse, data)
    except DetectorUnavailable as exc:
        log.warning("pose_detection_unavailable", error=str(exc))
        raise PoseDetectionUnavailable(
            "Pose detection is not installed on this server (the `vision` extra)"
        ) from exc
    except photo.UnusablePhoto as exc:
        raise UnusablePhoto(exc.problem, exc.message) from exc
    key = f"uploads/{user.id}/{upload.id}-pose.png"
    await storage.put(key, control_png, "image/png")
    return FromPhotoResult(
        keypoints=KeypointsOut(format="openpose-18", points=[list(point) for point in found.points]),
        control_map_url=storage.url(key),
        framing=suggested_framing(found.points).value,
        confidence=found.confidence,
    )


async def _community(session: AsyncSession) -> PoseCategory:
    await session.execute(upsert(session, PoseCategory).values(**COMMUNITY).on_conflict_do_nothing())
    category = await repository.category(session, str(COMMUNITY["slug"]))
    assert category is not None
    return category


async def _category(session: AsyncSession, category_id: str | None) -> PoseCategory:
    if category_id is None:
        return await _community(session)
    index = await category_index(session)
    category = index.by_id.get(category_id)
    if category is None or not index.is_visible(category):
        raise ValidationFailed("categoryId: no such category", field="categoryId")
    return category


async def _detail(session: AsyncSession, storage: Storage, viewer: User, pose: Pose) -> PoseDetail:
    return await PoseViews(session, storage, await category_index(session), viewer.id).detail(pose)


async def create(session: AsyncSession, storage: Storage, user: User, body: CustomPoseCreate) -> PoseDetail:
    """Save keypoints as the caller's private pose; its images are rendered and stored first."""
    points = keypoint_import.plausible(keypoint_import.from_points(body.keypoints.points))
    category = await _category(session, body.category_id)
    owned = await session.scalar(
        select(func.count()).select_from(Pose).where(Pose.owner_id == user.id, Pose.deleted_at.is_(None))
    )
    if (owned or 0) >= MAX_OWN_POSES:
        raise Conflict(f"You already have {MAX_OWN_POSES} poses, the most one account may keep")
    slug = await unique_slug(session, body.name)
    depth = [0.0] * len(points)  # photo keypoints carry no depth; parts draw in a fixed order
    digest, keys = await assets.render_and_store(storage, slug, points, depth)
    pose = Pose(
        category_id=category.id,
        slug=slug,
        name=body.name,
        description=body.description,
        difficulty="beginner",
        gender_suitability="unisex",
        framing=body.framing.value,
        keypoints={"format": "openpose-18", "points": [list(point) for point in points], "depth": depth},
        source=PoseSource.USER.value,
        owner_id=user.id,
        author_id=user.id,
        is_public=False,
        search_text=search_text(body.name, body.description, body.tags),
        content_hash=digest,
        preview_key=keys.preview,
        thumbnail_key=keys.thumbnail,
        control_map_key=keys.control_map,
    )
    await add_rendered_pose(session, storage, pose, keys, body.tags, "One of your poses with this name")
    log.info("custom_pose_created", pose_id=pose.id)
    return await _detail(session, storage, user, pose)


async def delete(session: AsyncSession, user: User, pose_id: str) -> list[str]:
    """Delete the caller's private pose; the storage keys to remove once the deletion commits.

    A pose that rows outliving it still reference (past generations, a pose request it completed) is
    hidden instead (`deleted_at`): those keep their pose and its files. Either way its name is free.
    Anyone else's pose, a public one or an unknown id is `NotFound`.
    """
    pose = await repository.lock_own_pose(session, user.id, pose_id)
    if pose is None:
        raise NotFound("Pose not found")
    if await repository.is_referenced(session, pose.id):
        pose.deleted_at = utcnow()
        await session.flush()
        log.info("custom_pose_deleted", pose_id=pose.id, kept_for_history=True)
        return []
    keys = [key for key in (pose.preview_key, pose.thumbnail_key, pose.control_map_key) if key]
    await session.delete(pose)
    await session.flush()
    log.info("custom_pose_deleted", pose_id=pose_id, kept_for_history=False)
    return keys


async def promote(
    session: AsyncSession, storage: Storage, admin: User, pose_id: str, body: PromotePose
) -> PoseDetail:
    """Make a user's private pose public (optionally moving it to another category); audited."""
    pose = await repository.pose(session, pose_id)
    if pose is None:
        raise NotFound("Pose not found")
    if pose.owner_id is None:
        raise Conflict("The pose is already in the library")
    before = {"ownerId": pose.owner_id, "isPublic": pose.is_public, "categoryId": pose.category_id}
    if body.category_id is not None:
        pose.category_id = (await _category(session, body.category_id)).id
    pose.owner_id = None
    pose.is_public = True
    pose.promoted_at = utcnow()
    pose.promoted_by = admin.id
    await flush_or_conflict(session, "A library pose with this name in this category")
    await audit.record(
        session,
        action="pose.promote",
        target_type="pose",
        target_id=pose.id,
        actor_id=admin.id,
        user_id=pose.author_id,
        before=before,
        after={"ownerId": None, "isPublic": True, "categoryId": pose.category_id},
    )
    return await _detail(session, storage, admin, pose)
