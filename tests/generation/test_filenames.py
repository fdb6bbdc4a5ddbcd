"""Stems of a generation's files: library slug and variation, unique, safe in paths and headers."""

from __future__ import annotations

from posegen.generation.filenames import export_file_name, stems
from posegen.generation.models import GeneratedPose


def pose(pose_id: str | None, variation_key: str, index: int) -> GeneratedPose:
    return GeneratedPose(id=f"gp{index}", pose_id=pose_id, variation_key=variation_key, variation_index=index)


def test_a_stem_is_the_library_slug_and_the_variation_number() -> None:
    poses = [pose("p1", "p1-v1", 0), pose("p1", "p1-v2", 1), pose("p2", "text-v3", 2)]
    assert stems(poses, {"p1": "arms-crossed", "p2": "star-jump"}) == {
        "gp0": "arms-crossed-v1",
        "gp1": "arms-crossed-v2",
        "gp2": "star-jump-v3",
    }


def test_a_pose_without_a_library_pose_and_repeats_still_get_unique_safe_stems() -> None:
    poses = [pose(None, "gone-v1", 0), pose(None, "gone-v1", 1), pose("p1", "odd", 2)]
    assert stems(poses, {"p1": 'Weird "Slug"/../x'}) == {
        "gp0": "pose-v1",
        "gp1": "pose-v1-2",
        "gp2": "weird-slug-x-v3",  # no variation number in the key: the index counts from 1
    }


def test_export_file_names_use_the_preset_and_its_extension() -> None:
    assert export_file_name("instagram_feed") == "instagram_feed.jpg"
    assert export_file_name("instagram_post") == "instagram_feed.jpg"  # the alias names the preset
    assert export_file_name("print_a4") == "print_a4.png"
    assert export_file_name("original") == "original.png"
