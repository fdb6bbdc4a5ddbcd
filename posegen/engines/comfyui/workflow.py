"""ComfyUI workflows in API format, with `$…` placeholders filled per render.

A workflow is ComfyUI's "API format" (Save (API) in its menu): a JSON object of node id →
`{"class_type", "inputs"}`. Any string value that is exactly a placeholder is replaced; numbers go
in as JSON numbers, so `"seed": "$seed"` becomes `"seed": 1234`. `$checkpoint` and `$controlnet`
are filled once, at load, from settings; the others per render (`RENDER_PLACEHOLDERS`).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

RENDER_PLACEHOLDERS = frozenset(
    {
        "$positive",
        "$negative",
        "$seed",
        "$width",
        "$height",
        "$steps",
        "$cfg",
        "$control_image",
        "$avatar_image",
        "$filename_prefix",
    }
)
LOAD_PLACEHOLDERS = frozenset({"$checkpoint", "$controlnet"})
CONTROL_IMAGE = "$control_image"
AVATAR_IMAGE = "$avatar_image"
SAVE_IMAGE = "SaveImage"  # the node class whose first image is the render's result

# What looks like a placeholder: a typo such as "$sed" is refused at load, not sent to a server.
_PLACEHOLDER_LIKE = re.compile(r"^\$[a-z_]+$")

Value = str | int | float


class WorkflowError(ValueError):
    """The configured workflow cannot be used (raised at start-up, when the engine is built)."""


def _strings(value: Any) -> list[str]:
    """Every string inside `value` (nested lists and objects included)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    return []


def _replace(value: Any, values: Mapping[str, Value]) -> Any:
    if isinstance(value, str):
        return values.get(value, value)
    if isinstance(value, list):
        return [_replace(item, values) for item in value]
    if isinstance(value, dict):
        return {key: _replace(item, values) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class Workflow:
    """A checked workflow; `build` returns the prompt of one render (the workflow is not changed)."""

    nodes: Mapping[str, Any]
    source: str  # where it came from, for messages and logs

    @classmethod
    def load(cls, path: Path | None, *, checkpoint: str, controlnet: str) -> Workflow:
        """Read `path` (None: the shipped default), fill the load-time placeholders and check it."""
        if path is None:
            text = resources.files(__package__).joinpath("default_workflow.json").read_text("utf-8")
            source = "the shipped default workflow"
        else:
            try:
                text = path.read_text("utf-8")
            except OSError as exc:
                raise WorkflowError(f"cannot read the ComfyUI workflow {path}: {exc}") from exc
            source = str(path)
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise WorkflowError(f"{source} is not JSON: {exc}") from exc
        filled = _replace(data, {"$checkpoint": checkpoint, "$controlnet": controlnet})
        return cls.checked(filled, source)

    @classmethod
    def checked(cls, data: Any, source: str) -> Workflow:
        """`data` as a workflow, or `WorkflowError` saying what is wrong with it."""
        if not isinstance(data, dict) or not data:
            raise WorkflowError(f"{source} must be a JSON object of ComfyUI nodes (API format)")
        if "nodes" in data and "links" in data:
            raise WorkflowError(
                f"{source} is in ComfyUI's UI format; export it with 'Save (API)' (API format)"
            )
        for node_id, node in data.items():
            if not (isinstance(node, dict) and isinstance(node.get("class_type"), str)):
                raise WorkflowError(f"{source}: node {node_id!r} has no class_type (API format expected)")
            if not isinstance(node.get("inputs", {}), dict):
                raise WorkflowError(f"{source}: node {node_id!r} has inputs that are not an object")
        strings = set(_strings(data))
        unknown = sorted(
            text for text in strings if _PLACEHOLDER_LIKE.match(text) and text not in RENDER_PLACEHOLDERS
        )
        if unknown:
            known = ", ".join(sorted(RENDER_PLACEHOLDERS | LOAD_PLACEHOLDERS))
            raise WorkflowError(f"{source} uses unknown placeholders {', '.join(unknown)} (known: {known})")
        if CONTROL_IMAGE not in strings:
            raise WorkflowError(
                f"{source} does not use {CONTROL_IMAGE}: the comfyui engine renders poses from their "
                f'control map, so a LoadImage node must take it ("image": "{CONTROL_IMAGE}")'
            )
        workflow = cls(data, source)
        if not workflow.save_image_nodes(workflow.nodes):
            raise WorkflowError(f"{source} has no {SAVE_IMAGE} node: the render's image is its output")
        return workflow

    def uses(self, placeholder: str) -> bool:
        """Whether the workflow has `placeholder` anywhere."""
        return placeholder in _strings(self.nodes)

    def build(self, values: Mapping[str, Value]) -> dict[str, Any]:
        """The prompt of one render: every render placeholder replaced by its value."""
        missing = sorted(p for p in RENDER_PLACEHOLDERS if p not in values and self.uses(p))
        if missing:
            raise ValueError(f"no value for {', '.join(missing)}")
        built: dict[str, Any] = _replace(copy.deepcopy(dict(self.nodes)), values)
        return built

    @staticmethod
    def save_image_nodes(prompt: Mapping[str, Any]) -> list[str]:
        """Ids of the SaveImage nodes of `prompt`, in its order (the first holds the result)."""
        return [
            node_id
            for node_id, node in prompt.items()
            if isinstance(node, dict) and node.get("class_type") == SAVE_IMAGE
        ]

    def class_types(self) -> set[str]:
        """The node classes the workflow uses."""
        return {node["class_type"] for node in self.nodes.values()}
