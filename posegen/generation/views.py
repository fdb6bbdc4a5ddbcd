"""Generations and their poses as the API shows them (signed URLs made here)."""

from __future__ import annotations

from posegen.engines.base import QUALITY_SIZES, Engine, HasLoadedModel, HasServers, quality_summary
from posegen.generation.counting import time_remaining
from posegen.generation.filenames import export_file_name
from posegen.generation.models import GeneratedPose, Generation
from posegen.generation.schemas import (
    EngineModelOut,
    EngineOut,
    EngineServerOut,
    GeneratedPoseOut,
    GenerationOut,
    Progress,
    QualityTierOut,
)
from posegen.library.schemas import KeypointsOut
from posegen.storage.base import Storage
from posegen.vision import PoseCheck


def pose_out(pose: GeneratedPose, storage: Storage, stem: str | None = None) -> GeneratedPoseOut:
    """The pose as the API shows it; with `stem` (see `filenames.stems`) its file URLs carry
    download names like `arms-crossed-v1-instagram_feed.jpg`."""

    def url(key: str | None, name: str) -> str | None:
        if not key:
            return None
        return storage.url(key, f"{stem}-{name}" if stem else None)

    return GeneratedPoseOut(
        id=pose.id,
        generation_id=pose.generation_id,
        pose_id=pose.pose_id,
        variation_key=pose.variation_key,
        variation_index=pose.variation_index,
        seed=pose.seed,
        status=pose.status,
        prompt_used=pose.prompt_used,
        engine=pose.engine,
        image_url=url(pose.image_key, "original.png"),
        thumbnail_url=url(pose.thumbnail_key, "thumbnail.webp"),
        control_map_url=url(pose.control_map_key, "control.png"),
        exports={
            name: storage.url(key, f"{stem}-{export_file_name(name)}" if stem else None)
            for name, key in (pose.export_keys or {}).items()
        },
        width=pose.width,
        height=pose.height,
        background_changed=pose.background_changed,
        error_code=pose.error_code,
        error_message=pose.error_message,
        generation_time_ms=pose.generation_time_ms,
        pose_score=pose.pose_score,
        pose_check=PoseCheck(pose.pose_check) if pose.pose_check else None,
        detected_keypoints=KeypointsOut.model_validate(pose.detected_keypoints)
        if pose.detected_keypoints
        else None,
        rerenders=pose.rerenders,
        created_at=pose.created_at,
        completed_at=pose.completed_at,
    )


def generation_out(generation: Generation) -> GenerationOut:
    return GenerationOut(
        id=generation.id,
        project_id=generation.project_id,
        generation_type=generation.generation_type,
        text_prompt=generation.text_prompt,
        engine=generation.engine,
        quality=generation.quality,
        status=generation.status,
        total_poses=generation.total_expected,
        success_count=generation.poses_completed,
        failed_count=generation.poses_failed,
        canceled_count=generation.poses_canceled,
        credit_charged=generation.credit_charged,
        credit_refunded=generation.credit_refunded,
        output_formats=list(generation.export_formats or []),
        use_background_changer=generation.use_background_changer,
        background_mode=generation.background_mode,
        error_code=generation.error_code,
        error_message=generation.error_message,
        last_seq=generation.last_seq,
        created_at=generation.created_at,
        started_at=generation.started_at,
        completed_at=generation.completed_at,
    )


def progress(generation: Generation, queue_position: int, seconds_per_pose: float | None) -> Progress:
    done = generation.poses_completed + generation.poses_failed + generation.poses_canceled
    total = generation.total_expected
    remaining = total - done
    return Progress(
        percentage=round(100 * done / total, 2) if total else 100.0,
        poses_completed=generation.poses_completed,
        poses_failed=generation.poses_failed,
        poses_total=total,
        current_status=generation.status,
        queue_position=queue_position,
        estimated_time_remaining=time_remaining(remaining, seconds_per_pose),
    )


def engine_out(engine: Engine) -> EngineOut:
    """What `GET /engines` says of one engine: the truth of this process (servers as last seen)."""
    servers = (
        [
            EngineServerOut(
                url=server.url,
                available=server.available,
                breaker=server.breaker,
                queue_remaining=server.queue_remaining,
                in_flight=server.in_flight,
            )
            for server in engine.servers()
        ]
        if isinstance(engine, HasServers)
        else None
    )
    model = None
    if isinstance(engine, HasLoadedModel):
        loaded = engine.loaded_model()
        model = EngineModelOut(
            base_model=loaded.base_model,
            controlnet=loaded.controlnet,
            device=loaded.device,
            dtype=loaded.dtype,
        )
    return EngineOut(
        name=engine.name,
        description=engine.description,
        available=engine.available(),
        supports_control_image=engine.supports_control_image,
        default_size=engine.default_size,
        qualities=list(engine.qualities),
        sizes={quality: QUALITY_SIZES[quality] for quality in engine.qualities},
        tiers=[
            QualityTierOut(
                quality=quality, size=QUALITY_SIZES[quality], gives=quality_summary(engine, quality)
            )
            for quality in engine.qualities
        ],
        servers=servers,
        model=model,
    )
