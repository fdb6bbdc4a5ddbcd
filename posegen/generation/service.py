"""`POST /generate`: validate against the library and the caller, then charge, create the
generation, all its per-pose work and its first event in one transaction. `POST /generate/quote`
runs the same checks and pricing (`prepare`) and stops before anything is written."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.auth.models import User
from posegen.config import Settings
from posegen.credits import quota
from posegen.credits import repository as credit_accounts
from posegen.credits.service import pay
from posegen.db import after_commit, serialize_on
from posegen.engines.base import QUALITY_SIZES, Engine
from posegen.engines.flux.prompt import build_prompt
from posegen.errors import Forbidden, IdempotencyKeyReused, NotFound, ValidationFailed
from posegen.generation import events
from posegen.generation import repository as generations
from posegen.generation.event_kinds import GenerationQueued
from posegen.generation.models import GeneratedPose, Generation, GenerationType
from posegen.generation.pricing import CHARGE_REFERENCE, pose_cost
from posegen.generation.repository import queue_position
from posegen.generation.retrieval import Candidate, perturb, rank
from posegen.generation.schemas import GenerateAccepted, GenerateRequest, Quote
from posegen.generation.takes import TakenPose, take_pose
from posegen.kit import wording
from posegen.kit.time import utcnow
from posegen.library import repository as library
from posegen.library.models import Pose
from posegen.library.service import category_index
from posegen.projects.models import Project
from posegen.projects.uploads import get_owned_upload

DEFAULT_SECONDS_PER_POSE = 2.0


@dataclass(frozen=True)
class Planned:
    """One pose variation to create."""

    pose: Pose
    variation_key: str
    variation_index: int
    taken: TakenPose


def request_hash(body: GenerateRequest) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _replay(session: AsyncSession, user: User, key: str, digest: str) -> GenerateAccepted | None:
    existing = await generations.generation_by_idempotency_key(session, user.id, key)
    if existing is None:
        return None
    if existing.request_hash != digest or existing.accepted_response is None:
        raise IdempotencyKeyReused("This Idempotency-Key was used with a different request")
    return GenerateAccepted.model_validate(existing.accepted_response)


async def _project(session: AsyncSession, user: User, project_id: str, *, lock: bool) -> Project:
    # Locked (PostgreSQL) for a submission so a concurrent project delete cannot slip between its
    # active-generation check and this generation's insert; the first row lock of a submission,
    # as LOCK ORDER (locks.py) says. A quote changes nothing and only reads it.
    project = await generations.project(session, project_id, lock=lock)
    if project is None or project.user_id != user.id:
        raise NotFound("Project not found")
    return project


async def _gallery_poses(session: AsyncSession, user: User, ids: Sequence[str]) -> list[Pose]:
    visible = (await category_index(session)).visible_ids()
    rows = await library.visible_poses(session, user.id, visible, ids)
    missing = [pose_id for pose_id in ids if pose_id not in rows]
    if missing:
        # Another user's private pose is as unknown as one that does not exist.
        raise NotFound(
            "selectedPoseIds: unknown poses", field="selectedPoseIds", details={"unknownPoseIds": missing}
        )
    return [rows[pose_id] for pose_id in ids]


async def _hold(session: AsyncSession, pose_ids: Sequence[str]) -> None:
    """Lock the chosen poses for the submission (LOCK ORDER 2b); one deleted since it was read is
    as unknown as one that never existed."""
    held = await library.hold_poses(session, pose_ids)
    missing = sorted({pose_id for pose_id in pose_ids if pose_id not in held})
    if missing:
        raise NotFound(
            "selectedPoseIds: unknown poses", field="selectedPoseIds", details={"unknownPoseIds": missing}
        )


async def _text_candidates(session: AsyncSession, user: User) -> tuple[list[Candidate], dict[str, Pose]]:
    visible = (await category_index(session)).visible_ids()
    poses = await generations.visible_library_poses(session, user.id, visible)
    tags = await library.tags_of(session, [pose.id for pose in poses])
    candidates = [Candidate(pose.id, pose.name, pose.description, tags[pose.id]) for pose in poses]
    return candidates, {pose.id: pose for pose in poses}


def _keypoints(pose: Pose) -> tuple[list[list[float]], list[float]]:
    points = [list(map(float, point)) for point in pose.keypoints["points"]]
    depth = [float(z) for z in pose.keypoints.get("depth") or [0.0] * len(points)]
    return points, depth


async def _plan(session: AsyncSession, user: User, body: GenerateRequest, base_seed: int) -> list[Planned]:
    """Every variation to create, each its own take (`takes.take_pose`) seeded by its row's seed."""
    if body.generation_type is GenerationType.GALLERY_REFERENCE:
        assert body.selected_pose_ids is not None
        planned: list[Planned] = []
        for pose in await _gallery_poses(session, user, body.selected_pose_ids):
            points, depth = _keypoints(pose)
            for number in range(1, body.batch_size + 1):
                index = len(planned)
                taken = take_pose(points, depth, number, base_seed + index)
                planned.append(Planned(pose, f"{pose.id}-v{number}", index, taken))
        return planned
    assert body.text_prompt is not None
    candidates, poses = await _text_candidates(session, user)
    ranked = rank(body.text_prompt, candidates)
    if not ranked:
        raise ValidationFailed("textPrompt: no library pose matches this description", field="textPrompt")
    planned = []
    for index in range(body.variation_count):
        # Distinct poses while enough match (best first), then round again.
        pose = poses[ranked[index % len(ranked)].pose_id]
        points, depth = _keypoints(pose)
        moved = [list(point) for point in perturb([(p[0], p[1], p[2]) for p in points], base_seed + index)]
        taken = take_pose(moved, depth, index + 1, base_seed + index)
        planned.append(Planned(pose, f"text-v{index + 1}", index, taken))
    return planned


async def _estimate(session: AsyncSession, settings: Settings, waiting: int) -> float:
    """Seconds until `waiting` poses are done, from the measured time of recent poses."""
    per_pose = await generations.seconds_per_pose(session) or DEFAULT_SECONDS_PER_POSE
    return waiting * per_pose / settings.work.concurrency


async def no_rate_limit(user_id: str, poses: int) -> None:
    """`reserve` for submissions that are no user's HTTP request (benchmarks drive the service
    directly): nothing is counted."""


@dataclass(frozen=True)
class Order:
    """A `/generate` request checked against the library and the caller, priced, nothing written."""

    project: Project
    engine_name: str
    background: str | None
    base_seed: int
    planned: list[Planned]
    per_pose: int  # credits per pose when paid in credits
    now: datetime

    @property
    def credits(self) -> int:
        return self.per_pose * len(self.planned)


async def prepare(
    session: AsyncSession,
    settings: Settings,
    engines: Callable[[str], Engine | None],
    user: User,
    body: GenerateRequest,
    *,
    lock: bool,
) -> Order:
    """Every check of a submission that reads the database, and its price: the one code path of
    `submit` and `quote`. `lock` takes the project row (a submission); a quote only reads it."""
    project = await _project(session, user, body.project_id, lock=lock)
    engine_name = body.engine or settings.engines.default
    engine = engines(engine_name)
    if engine is None or not engine.available():
        raise ValidationFailed(f"engine: {engine_name!r} is not available", field="engine")
    background = body.background_mode if body.use_background_changer else None
    if background is not None and background not in engine.background_modes:
        raise ValidationFailed(
            f"backgroundMode: {engine_name} cannot do {background} backgrounds", field="backgroundMode"
        )
    if background == "upload":
        assert body.background_upload_id is not None
        try:
            await get_owned_upload(session, user.id, body.background_upload_id)
        except NotFound as exc:
            raise ValidationFailed("backgroundUploadId: no such upload", field="backgroundUploadId") from exc

    base_seed = body.seed if body.seed is not None else secrets.randbelow(2**31 - 1_000_000)
    planned = await _plan(session, user, body, base_seed)
    if lock:
        await _hold(session, [item.pose.id for item in planned])
    now = utcnow()
    premium = {item.pose.id: item.pose.name for item in planned if item.pose.is_premium}
    if premium and not quota.tier_active(user, now):
        names = sorted(set(premium.values()))
        raise Forbidden(
            f"Premium poses need an active unlimited tier: {wording.listing(names)}",
            details={"premiumPoseIds": sorted(premium), "premiumPoseNames": names},
        )
    per_pose = pose_cost(settings.pricing, body.quality, body.use_background_changer)
    return Order(project, engine_name, background, base_seed, planned, per_pose, now)


async def quote(
    session: AsyncSession,
    settings: Settings,
    engines: Callable[[str], Engine | None],
    user: User,
    body: GenerateRequest,
) -> Quote:
    """What `submit` would charge for `body` now, and the caller's balance; writes nothing.

    The same checks (and errors) as `submit`, except the ones that need a submission: the
    Idempotency-Key, the poses-per-hour limit and whether the balance or quota suffices."""
    order = await prepare(session, settings, engines, user, body, lock=False)
    covered = quota.tier_active(user, order.now)
    return Quote(
        poses_total=len(order.planned),
        # `pay` takes quota instead of credits while the tier is active.
        credit_cost=0 if covered else order.credits,
        balance=await credit_accounts.balance(session, user.id),
        covered_by_quota=covered,
    )


async def submit(
    session: AsyncSession,
    settings: Settings,
    engines: Callable[[str], Engine | None],
    user: User,
    body: GenerateRequest,
    idempotency_key: str | None,
    wake: Callable[[], None],
    reserve: Callable[[str, int], Awaitable[None]],
) -> GenerateAccepted:
    """Charge and enqueue a generation; a repeated Idempotency-Key replays the first answer.

    `reserve(user_id, poses)` takes the poses from the caller's rate limit (or refuses with 429)
    once the request is known to be valid and before anything is charged; a replay takes nothing."""
    digest = request_hash(body)
    if idempotency_key is not None:
        # Repeats of one key queue here, before any row lock (see LOCK ORDER in locks.py), and
        # replay the first answer once it has committed; the unique (user, key) index stays as
        # the last guard.
        await serialize_on(session, "idempotency", user.id, idempotency_key)
        replay = await _replay(session, user, idempotency_key, digest)
        if replay is not None:
            return replay
    order = await prepare(session, settings, engines, user, body, lock=True)
    project, engine_name, background, base_seed = (
        order.project,
        order.engine_name,
        order.background,
        order.base_seed,
    )
    planned, now = order.planned, order.now
    await reserve(user.id, len(planned))

    generation = Generation(
        user_id=user.id,
        project_id=project.id,
        generation_type=body.generation_type.value,
        text_prompt=body.text_prompt,
        batch_size=body.batch_size,
        variation_count=body.variation_count if body.text_prompt else body.batch_size,
        total_expected=len(planned),
        engine=engine_name,
        quality=body.quality,
        base_seed=base_seed,
        use_background_changer=body.use_background_changer,
        background_mode=background,
        background_prompt=body.background_prompt if background == "ai_generate" else None,
        background_color=body.background_color if background == "solid_color" else None,
        background_upload_id=body.background_upload_id if background == "upload" else None,
        export_formats=body.output_formats,
        idempotency_key=idempotency_key,
        request_hash=digest,
    )
    await generations.add_generation(session, generation)

    payment = await pay(
        session,
        user,
        poses=len(planned),
        credits=order.credits,
        now=now,
        reason=f"generation of {wording.count(len(planned), 'pose')} ({body.quality})",
        reference_type=CHARGE_REFERENCE,
        reference_id=generation.id,
    )
    generation.credit_charged = payment.credits
    generation.quota_day = payment.quota_day
    cost = order.per_pose if payment.credits else 0
    avatar = {key: str(value) for key, value in (project.avatar_attributes or {}).items()}
    size = QUALITY_SIZES[body.quality]
    # Each pose keeps its library category's slug with its keypoints: the render dresses the avatar
    # for it (a hijab in the Hijab categories, unless the avatar says otherwise).
    slugs = {
        category_id: category.slug for category_id, category in (await category_index(session)).by_id.items()
    }
    poses = [
        GeneratedPose(
            generation_id=generation.id,
            user_id=user.id,
            pose_id=item.pose.id,
            variation_key=item.variation_key,
            variation_index=item.variation_index,
            seed=base_seed + item.variation_index,
            prompt_used=build_prompt(
                item.pose.description, avatar, body.text_prompt, generation.background_prompt
            ),
            keypoints={**item.taken.stored(), "category": slugs.get(item.pose.category_id)},
            engine=engine_name,
            max_attempts=settings.work.max_attempts,
            available_at=now,
            cost=cost,
            width=size,
            height=size,
        )
        for item in planned
    ]
    await generations.add_poses(session, poses)
    await events.append(
        session, generation.id, user.id, GenerationQueued(total=len(planned), credit_charged=payment.credits)
    )
    position = await queue_position(session, generation.created_at)
    seconds = await _estimate(session, settings, position + len(planned))
    accepted = GenerateAccepted(
        generation_id=generation.id,
        status="queued",
        total_poses_expected=len(planned),
        credit_charged=payment.credits,
        queue_position=position,
        estimated_completion_time=now + timedelta(seconds=seconds),
        message=f"Queued {wording.count(len(planned), 'pose')}",
    )
    generation.accepted_response = accepted.model_dump(mode="json")
    await session.flush()
    after_commit(session, wake)
    return accepted
