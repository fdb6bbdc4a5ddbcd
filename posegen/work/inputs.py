"""What an engine is asked to render: one pose of a generation, on a background."""

from __future__ import annotations

from typing import cast

from PIL import Image

from posegen.config import Settings
from posegen.engines.base import BackgroundSpec, Quality, RenderRequest
from posegen.engines.flux.prompt import NEGATIVE_PROMPT
from posegen.generation.models import GeneratedPose, Generation
from posegen.imaging.backgrounds import parse_hex_color
from posegen.imaging.budget import decode_rgb, shared_budget
from posegen.imaging.look import covering_for_category
from posegen.imaging.variation import Take
from posegen.projects.models import Project, Upload
from posegen.storage.base import Storage


async def background_spec(
    storage: Storage,
    settings: Settings,
    mode: str | None,
    color: str | None,
    prompt: str | None,
    upload: Upload | None,
) -> BackgroundSpec | None:
    """The background a render gets (an uploaded image is decoded here, once per render, within the
    process's decoding budget)."""
    if mode == "solid_color" and color:
        return BackgroundSpec("solid_color", color=parse_hex_color(color))
    if mode == "upload" and upload is not None:
        data = await storage.get(upload.storage_key)
        image = await decode_rgb(shared_budget(settings), data)
        return BackgroundSpec("upload", image=image)
    if mode == "ai_generate":
        return BackgroundSpec("ai_generate", prompt=prompt)
    return None


async def avatar_image(storage: Storage, settings: Settings, upload: Upload | None) -> Image.Image | None:
    """The project's avatar picture, decoded within the process's decoding budget (None without one)."""
    if upload is None:
        return None
    data = await storage.get(upload.storage_key)
    return await decode_rgb(shared_budget(settings), data)


def render_request(
    pose: GeneratedPose,
    generation: Generation,
    project: Project | None,
    background: BackgroundSpec | None,
    avatar: Image.Image | None = None,
) -> RenderRequest:
    """The request of one pose variation. Its keypoints, as its take shows them, the take and the
    pose's library category were stored at submission (`generation/takes.py`); the category gives the
    avatar a head covering when it sets none (`covering_for_category`)."""
    points = [(float(x), float(y), float(c)) for x, y, c in pose.keypoints["points"]]
    attributes = {
        key: str(value) for key, value in ((project.avatar_attributes if project else None) or {}).items()
    }
    if "head_covering" not in attributes:
        covering = covering_for_category(pose.keypoints.get("category"))
        if covering != "none":
            attributes["head_covering"] = covering
    return RenderRequest(
        points=points,
        depth=[float(z) for z in pose.keypoints.get("depth") or [0.0] * len(points)],
        pose_description=pose.prompt_used,
        prompt=pose.prompt_used,
        negative_prompt=NEGATIVE_PROMPT,
        width=pose.width or 1024,
        height=pose.height or 1024,
        quality=cast(Quality, generation.quality),  # validated on submission
        seed=pose.seed,
        avatar=attributes,
        background=background,
        avatar_image=avatar,
        take=Take.from_json(pose.keypoints.get("take")),
    )
