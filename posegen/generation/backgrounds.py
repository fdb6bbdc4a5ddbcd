"""`POST /poses/{id}/background`: a paid background change of one finished pose, queued as work."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.auth.models import User
from posegen.config import Settings
from posegen.credits import repository as credits
from posegen.credits.service import pay
from posegen.db import after_commit
from posegen.engines.base import Engine
from posegen.errors import Conflict, NotFound, ValidationFailed
from posegen.generation import repository as generations
from posegen.generation.manage import completed_pose
from posegen.generation.models import BackgroundChange
from posegen.generation.schemas import BackgroundChangeAccepted, BackgroundOptions
from posegen.kit.time import utcnow
from posegen.projects.uploads import get_owned_upload

REFERENCE = "background_change"


async def request_change(
    session: AsyncSession,
    settings: Settings,
    engines: Callable[[str], Engine | None],
    user: User,
    pose_id: str,
    body: BackgroundOptions,
    wake: Callable[[], None],
) -> BackgroundChangeAccepted:
    """Charge for and queue a background change; refunded if it fails."""
    pose = await completed_pose(session, user.id, pose_id)
    engine = engines(pose.engine)
    if engine is None or body.background_mode not in engine.background_modes:
        raise ValidationFailed(
            f"backgroundMode: {pose.engine} cannot do {body.background_mode} backgrounds",
            field="backgroundMode",
        )
    if body.background_upload_id is not None:
        try:
            await get_owned_upload(session, user.id, body.background_upload_id)
        except NotFound as exc:
            raise ValidationFailed("backgroundUploadId: no such upload", field="backgroundUploadId") from exc
    if await generations.open_background_changes(session, pose.id):
        raise Conflict("A background change of this pose is already under way")
    change = BackgroundChange(
        pose_id=pose.id,
        generation_id=pose.generation_id,
        user_id=user.id,
        mode=body.background_mode,
        prompt=body.background_prompt,
        color=body.background_color,
        upload_id=body.background_upload_id,
        max_attempts=settings.work.max_attempts,
    )
    await generations.add_background_change(session, change)
    payment = await pay(
        session,
        user,
        poses=1,
        credits=settings.pricing.background_change,
        now=utcnow(),
        reason="background change",
        reference_type=REFERENCE,
        reference_id=change.id,
    )
    change.cost = payment.credits
    change.quota_day = payment.quota_day
    await session.flush()
    after_commit(session, wake)
    return BackgroundChangeAccepted(
        pose_id=pose.id,
        background_change_id=change.id,
        status="queued",
        credit_charged=payment.credits,
        credit_balance=await credits.balance(session, user.id),
    )
