"""A finished prompt's image: where the history says it is, and decoding it."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from PIL import Image, ImageOps

from posegen.engines.base import EngineError, ErrorCode
from posegen.engines.comfyui.client import ImageRef
from posegen.engines.comfyui.workflow import Workflow


def png(image: Image.Image) -> bytes:
    """`image` as PNG (fast compression: the bytes only travel to the server)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def decode(content: bytes, width: int, height: int) -> Image.Image:
    """The server's image as RGB at width × height (cover-fit when it sent another size)."""
    try:
        with Image.open(io.BytesIO(content)) as opened:
            image = opened.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise EngineError(
            ErrorCode.INTERNAL, f"ComfyUI sent no decodable image: {exc}", retryable=False
        ) from exc
    if image.size != (width, height):
        image = ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)
    return image


def result_ref(entry: dict[str, Any], workflow_nodes: Mapping[str, Any]) -> ImageRef:
    """The first image of the first SaveImage node of the prompt as the server ran it (the
    history holds it; `workflow_nodes` stand in when it does not)."""
    queued = entry.get("prompt")  # [number, prompt_id, prompt, extra_data, outputs_to_execute]
    ran = queued[2] if isinstance(queued, list) and len(queued) > 2 else None
    nodes = ran if isinstance(ran, dict) else workflow_nodes
    outputs = entry.get("outputs")
    for node_id in Workflow.save_image_nodes(nodes):
        output = outputs.get(node_id) if isinstance(outputs, dict) else None
        images = output.get("images") if isinstance(output, dict) else None
        first = images[0] if isinstance(images, list) and images else None
        if isinstance(first, dict) and first.get("filename"):
            subfolder, kind = str(first.get("subfolder", "")), str(first.get("type", "output"))
            return ImageRef(str(first["filename"]), subfolder, kind)
    raise EngineError(
        ErrorCode.INTERNAL, "ComfyUI prompt finished without a SaveImage image", retryable=False
    )
