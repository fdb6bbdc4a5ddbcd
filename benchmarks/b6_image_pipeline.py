"""B6, image pipeline: mannequin render time, and thumbnail + all export presets against a plain baseline.

Run: ``.venv/bin/python benchmarks/b6_image_pipeline.py``; prints one JSON object (BENCHMARKS.md).

(a) ``render_mannequin`` of a standing pose at 1024², median of several runs, target ≤ 150 ms on one
    core (the process is pinned to one CPU where the OS allows it).
(b) decode one PNG-encoded 1024² render, then :func:`render_outputs` with every preset: the WebP
    thumbnail and 16 exports.
(c) the baseline: decode the same PNG once and produce the same 17 outputs with straightforward Pillow
    calls (crop-resize and save per output, the duplicates included). Target: (b) / (c) ≤ 1.5. The
    ratio against the distinct outputs only (duplicates skipped, the least work possible) is reported
    too. The baseline writes byte-identical files, which the run checks, so the two do the same job.

Timings of (b) and (c) are interleaved, in alternating order, so drift on a noisy machine hits both.
"""

from __future__ import annotations

import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import PIL
from PIL import Image

from posegen.imaging.exports import Outputs, render_outputs, thumbnail_size
from posegen.imaging.framing import Box, extend_canvas, place
from posegen.imaging.geometry import figure_box
from posegen.imaging.mannequin import render_mannequin
from posegen.imaging.presets import PRESETS, ExportPreset
from posegen.imaging.thumbnails import THUMBNAIL_METHOD, THUMBNAIL_QUALITY
from posegen.kit.openpose import Point

SIZE = 1024
RENDER_RUNS = 15
PIPELINE_RUNS = 7
RENDER_TARGET_MS = 150.0
RATIO_TARGET = 1.5

# A relaxed standing pose, COCO-18 order, normalised to the canvas.
STANDING: list[Point] = [
    (0.5, 0.16, 1.0), (0.5, 0.26, 1.0), (0.41, 0.27, 1.0), (0.38, 0.40, 1.0), (0.37, 0.52, 1.0),
    (0.59, 0.27, 1.0), (0.62, 0.40, 1.0), (0.63, 0.52, 1.0), (0.45, 0.52, 1.0), (0.45, 0.69, 1.0),
    (0.45, 0.86, 1.0), (0.55, 0.52, 1.0), (0.55, 0.69, 1.0), (0.55, 0.86, 1.0), (0.48, 0.145, 1.0),
    (0.52, 0.145, 1.0), (0.46, 0.155, 1.0), (0.54, 0.155, 1.0),
]  # fmt: skip
DEPTH = [0.0] * 18


def pin_to_one_core() -> int | None:
    """Pin this process to one CPU it may run on; the CPU, or None where the OS has no affinity call."""
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError):
        return None
    return cpu


def git_state() -> tuple[str | None, bool | None]:
    """The commit checked out and whether the working tree differs from it, or (None, None)."""
    git = shutil.which("git")
    if git is None:
        return None, None
    root = Path(__file__).resolve().parents[1]
    try:
        # Fixed arguments, no shell: nothing here comes from outside.
        head = subprocess.run(  # noqa: S603
            [git, "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(  # noqa: S603
            [git, "status", "--porcelain"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return head or None, bool(status.strip())


def timed_ms(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1000


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def pipeline(png: bytes, focus: Box) -> Outputs:
    """(b): one decode, then the pipeline under test."""
    return render_outputs(decode(png), list(PRESETS), focus)


def baseline(png: bytes, focus: Box, *, distinct_only: bool = False) -> dict[str, bytes]:
    """(c): one decode, then each output the obvious way: crop-resize and save with Pillow."""
    image = decode(png).convert("RGB")
    out: dict[str, bytes] = {}
    buffer = io.BytesIO()
    image.resize(thumbnail_size(image.size), Image.Resampling.LANCZOS).save(
        buffer, format="WEBP", quality=THUMBNAIL_QUALITY, method=THUMBNAIL_METHOD
    )
    out["thumbnail"] = buffer.getvalue()
    done: dict[tuple[Any, ...], str] = {}
    for key, preset in PRESETS.items():
        spec = (preset.width, preset.height, preset.format, preset.quality, preset.dpi)
        if distinct_only and spec in done:
            out[key] = out[done[spec]]
            continue
        done[spec] = key
        out[key] = _baseline_export(image, preset, focus)
    return out


def _baseline_export(image: Image.Image, preset: ExportPreset, focus: Box) -> bytes:
    buffer = io.BytesIO()
    if preset.width is None or preset.height is None:
        image.save(buffer, format="PNG", optimize=False, compress_level=6)
        return buffer.getvalue()
    placement = place(image.width, image.height, preset.width, preset.height, focus)
    t_left, t_top, t_right, t_bottom = placement.target
    size = (t_right - t_left, t_bottom - t_top)
    resized = extend_canvas(image.resize(size, Image.Resampling.LANCZOS, box=placement.source), placement)
    if preset.format == "jpeg":
        resized.save(buffer, format="JPEG", quality=preset.quality, progressive=True)
    else:
        dpi = (preset.dpi, preset.dpi) if preset.dpi else None
        options: dict[str, Any] = {"dpi": dpi} if dpi else {}
        resized.save(buffer, format="PNG", optimize=False, compress_level=6, **options)
    return buffer.getvalue()


def main() -> dict[str, Any]:
    started = time.perf_counter()
    cpu = pin_to_one_core()
    commit, dirty = git_state()

    # (a) the mannequin render.
    render = render_mannequin(STANDING, DEPTH, SIZE, SIZE)  # warm-up
    render_ms = [timed_ms(lambda: render_mannequin(STANDING, DEPTH, SIZE, SIZE)) for _ in range(RENDER_RUNS)]
    render_median = statistics.median(render_ms)

    # (b) and (c) from one PNG-encoded render.
    buffer = io.BytesIO()
    render.image.save(buffer, format="PNG")
    png = buffer.getvalue()
    focus = figure_box(STANDING, render.transform, padded=True)

    outputs = pipeline(png, focus)  # warm-up, and the outputs to compare
    reference = baseline(png, focus)
    identical = outputs.thumbnail == reference["thumbnail"] and all(
        outputs.exports[key] == reference[key] for key in PRESETS
    )
    distinct = len({id(data) for data in outputs.exports.values()}) + 1  # + the thumbnail

    runs: dict[str, list[float]] = {"pipeline": [], "baseline": [], "baseline_distinct": []}
    jobs: dict[str, Callable[[], object]] = {
        "pipeline": lambda: pipeline(png, focus),
        "baseline": lambda: baseline(png, focus),
        "baseline_distinct": lambda: baseline(png, focus, distinct_only=True),
    }
    names = list(jobs)
    for run in range(PIPELINE_RUNS):
        order = names if run % 2 == 0 else names[::-1]
        for name in order:
            runs[name].append(timed_ms(jobs[name]))
    medians = {name: statistics.median(values) for name, values in runs.items()}
    ratio = medians["pipeline"] / medians["baseline"]
    ratio_distinct = medians["pipeline"] / medians["baseline_distinct"]

    render_pass = render_median <= RENDER_TARGET_MS
    ratio_pass = ratio <= RATIO_TARGET and identical
    return {
        "benchmark": "B6 image pipeline",
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "git_commit": commit,
        "git_dirty": dirty,
        "cores": os.cpu_count(),
        "pinned_cpu": cpu,
        "python": platform.python_version(),
        "pillow": PIL.__version__,
        "mannequin_render": {
            "size": [SIZE, SIZE],
            "runs": RENDER_RUNS,
            "median_ms": round(render_median, 2),
            "min_ms": round(min(render_ms), 2),
            "target_ms": RENDER_TARGET_MS,
            "pass": render_pass,
        },
        "exports": {
            "source_png_bytes": len(png),
            "outputs": len(outputs.exports) + 1,
            "distinct_outputs": distinct,
            "runs": PIPELINE_RUNS,
            "pipeline_median_ms": round(medians["pipeline"], 2),
            "baseline_median_ms": round(medians["baseline"], 2),
            "baseline_distinct_median_ms": round(medians["baseline_distinct"], 2),
            # Minimums are what a quiet machine would show; medians are the figures that count.
            "min_ms": {name: round(min(values), 2) for name, values in runs.items()},
            "ratio": round(ratio, 3),
            "ratio_vs_distinct_baseline": round(ratio_distinct, 3),
            "target_ratio": RATIO_TARGET,
            "identical_bytes": identical,
            "pass": ratio_pass,
        },
        "pass": render_pass and ratio_pass,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
