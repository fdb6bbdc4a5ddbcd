"""The avatar gallery (`posegen library gallery`): four avatars of one pose are four different people,
and four variations of one pose are four different pictures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from posegen.cli import app
from posegen.generation.gallery import AVATARS, LABEL_HEIGHT, gallery
from posegen.library.poses import POSES

CELL = 128


def _cells(sheet_row: int, image: np.ndarray) -> list[np.ndarray]:
    top = sheet_row * (CELL + LABEL_HEIGHT)
    return [image[top : top + CELL, column * CELL : (column + 1) * CELL] for column in range(4)]


def _changed_share(a: np.ndarray, b: np.ndarray) -> float:
    return float((np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 8).mean())


def test_the_gallery_shows_four_different_people_and_four_different_takes() -> None:
    sheet = gallery(CELL)
    assert sheet.size == (4 * CELL, 4 * (CELL + LABEL_HEIGHT))
    pixels = np.asarray(sheet)
    people = _cells(0, pixels)
    for index, first in enumerate(people):
        for second in people[index + 1 :]:
            assert _changed_share(first, second) > 0.02
    takes = _cells(3, pixels)
    for index, first in enumerate(takes):
        for second in takes[index + 1 :]:
            assert _changed_share(first, second) > 0.10
    assert len(AVATARS) == 4 and len(POSES) >= 3


def test_the_command_writes_the_gallery(tmp_path: Path) -> None:
    out = tmp_path / "gallery.png"
    result = CliRunner().invoke(app, ["library", "gallery", str(out), "--cell", "128"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG")
