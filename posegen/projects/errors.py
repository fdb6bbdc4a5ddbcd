"""Errors of the projects and uploads domain."""

from __future__ import annotations

from posegen.errors import PosegenError


class UnsupportedMediaType(PosegenError):
    """The upload is not an image of a supported format (judged by its content, never its name)."""

    code = "UNSUPPORTED_MEDIA_TYPE"
    status = 415
