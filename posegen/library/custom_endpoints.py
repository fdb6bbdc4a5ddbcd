"""Users' own poses: detect a pose in an uploaded photo, save keypoints as a private pose."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request, Response, status

from posegen.auth.dependencies import CurrentUser
from posegen.db import Session, UnitOfWorkRoute
from posegen.dependencies import StorageDep
from posegen.library import assets, custom_poses
from posegen.library.schemas import CustomPoseCreate, FromPhotoRequest, FromPhotoResult, PoseResult
from posegen.openapi import errors
from posegen.ratelimit.http import count_detection

router = APIRouter(tags=["library"], route_class=UnitOfWorkRoute)


@router.post("/poses/from-photo", responses=errors(404, 503))
async def from_photo(
    body: FromPhotoRequest, request: Request, user: CurrentUser, session: Session, storage: StorageDep
) -> FromPhotoResult:
    """The body pose of the one person in an upload of the caller's, as OpenPose-18 keypoints on a
    square frame (the photo centred on a square of its longer side), with its control map. Limited
    per user (`POSEGEN_LIMITS_POSE_DETECTIONS_PER_HOUR`); nothing is saved until `POST /library/custom`.

    A photo without one clear person is a 400 whose code says why: `PHOTO_TOO_SMALL`,
    `NO_PERSON_DETECTED`, `MULTIPLE_PEOPLE_DETECTED`, `PERSON_TOO_SMALL` or `POSE_UNCLEAR`
    (`details.problem` repeats it). Without a pose detector on the server: 503
    `POSE_DETECTION_UNAVAILABLE`."""
    await count_detection(request, user.id)
    return await custom_poses.from_photo(session, storage, user, body.upload_id)


@router.post("/library/custom", status_code=status.HTTP_201_CREATED, responses=errors(409))
async def create_custom_pose(
    body: CustomPoseCreate, user: CurrentUser, session: Session, storage: StorageDep
) -> PoseResult:
    """Save 18 keypoints as the caller's private pose (`source: user`): listed under
    `GET /library?mine=true`, usable in gallery generations, 404 to everyone else. The keypoints must
    pass the plausibility checks; a name is unique among the caller's poses (409)."""
    return PoseResult(pose=await custom_poses.create(session, storage, user, body))


@router.delete(
    "/library/custom/{pose_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(404),
)
async def delete_custom_pose(
    pose_id: str, user: CurrentUser, session: Session, storage: StorageDep, background: BackgroundTasks
) -> Response:
    """Delete one of the caller's own private poses: gone from the library, its detail and new
    generations, and its name free again. Past generations that used it keep their poses and images
    (the pose is then hidden, not removed). Anyone else's pose, a library pose or an unknown id is 404."""
    keys = await custom_poses.delete(session, user, pose_id)
    background.add_task(assets.remove_after_commit, storage, keys)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
