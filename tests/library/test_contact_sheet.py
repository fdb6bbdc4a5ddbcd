"""The contact sheet draws each pose dressed for its category: the Hijab categories with a hijab."""

from __future__ import annotations

import numpy as np

from posegen.library.contact_sheet import LABEL_HEIGHT, SheetEntry, contact_sheet
from posegen.library.poses import POSES


def test_hijab_category_poses_are_drawn_with_a_hijab() -> None:
    spec = next(p for p in POSES if p.name == "Hijab Professional Headshot")
    plain = SheetEntry(spec.name, spec.keypoints.points, spec.keypoints.depth, "professional")
    covered = SheetEntry(spec.name, spec.keypoints.points, spec.keypoints.depth, spec.category)
    sheet = np.asarray(contact_sheet([plain, covered], columns=2, cell=160), dtype=np.int32)
    assert sheet.shape == (160 + LABEL_HEIGHT, 320, 3)
    left, right = sheet[:80, :160], sheet[:80, 160:]  # the top half of each cell: the head
    assert (np.abs(left - right).sum(axis=2) > 40).mean() > 0.2
