"""The `comfyui` engine: Stable Diffusion + ControlNet OpenPose on remote ComfyUI servers."""

from posegen.engines.comfyui.engine import ComfyUIEngine, client_id_for
from posegen.engines.comfyui.workflow import RENDER_PLACEHOLDERS, Workflow, WorkflowError

__all__ = [
    "RENDER_PLACEHOLDERS",
    "ComfyUIEngine",
    "Workflow",
    "WorkflowError",
    "client_id_for",
]
