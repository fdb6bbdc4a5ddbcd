"""The avatar attributes the mannequin draws are validated where the attributes are listed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from posegen.projects.schemas import AvatarAttributes


def test_skin_tone_clothing_colour_and_head_covering_are_validated_and_stored() -> None:
    attributes = AvatarAttributes.model_validate(
        {"skinTone": "Deep", "clothingColor": "#2E784C", "headCovering": "hijab", "hairStyle": "long"}
    )
    assert attributes.stored() == {
        "skin_tone": "deep",
        "clothing_color": "#2e784c",
        "head_covering": "hijab",
        "hair_style": "long",
    }
    for field, value in (("skinTone", "green"), ("clothingColor", "#12"), ("headCovering", "helmet")):
        with pytest.raises(ValidationError, match="must be"):
            AvatarAttributes.model_validate({field: value})
