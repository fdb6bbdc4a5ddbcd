"""B11, GPU batching: images/s of the `diffusers` engine at batch sizes 1, 2, 4 and 8.

Run: ``.venv/bin/python benchmarks/b11_gpu_batching.py``; prints one JSON object (BENCHMARKS.md).

By default the model is the tests' tiny random-weight SD 1.5 + ControlNet (written to a scratch
directory), on the CPU: the figures then say what batching saves in per-call overhead, not what a
GPU gains, so the target is only reported. On a GPU machine with weights present locally:
``… --model <dir or id> --controlnet <dir or id> --device cuda`` (ids are read from the Hugging Face
cache, never downloaded; `posegen models pull` fetches them), which also reports
``torch.cuda.max_memory_allocated`` per batch size.

For each batch size B the same ``--images`` poses (distinct seeds, two alternating poses) are
rendered as ``render_batch`` calls of B, and one by one with ``render``. Each mode runs once to warm
up (and to read its peak memory), then ``--repeats`` times, the modes interleaved in rotating order
so drift on a shared machine hits them alike; figures are medians. Target: images/s at batch 4 ≥
2 × images/s at batch 1 on a GPU.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import _setup

from posegen.config import EngineSettings
from posegen.engines.base import DetachedContext, EngineError, RenderRequest
from posegen.engines.diffusers import DiffusersEngine
from posegen.kit.openpose import Point

BATCH_SIZES = (1, 2, 4, 8)
TARGET_RATIO = 2.0  # batch 4 against batch 1, images/s, on a GPU

STANDING: list[Point] = [(x, y, c) for x, y, c in _setup.STANDING]
ARMS_UP: list[Point] = [
    *STANDING[:3], (0.38, 0.14, 1.0), (0.36, 0.03, 1.0), STANDING[5], (0.62, 0.14, 1.0), (0.64, 0.03, 1.0),
    *STANDING[8:],
]  # fmt: skip


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="base model (directory or cached Hub id); default: the tiny model")
    parser.add_argument(
        "--controlnet", default=EngineSettings().diffusers_controlnet, help="ControlNet with --model"
    )
    parser.add_argument("--variant", default="sd15", choices=("sd15", "sdxl", "flux"))
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto")
    parser.add_argument("--size", type=int, help="image side in pixels (default 64 tiny, 512 real)")
    parser.add_argument("--steps", type=int, help="denoising steps (default 4 tiny, 20 real)")
    parser.add_argument("--images", type=int, default=8, help="images per timed run (a multiple of 8)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement")
    parser.add_argument(
        "--threads", type=int, help="torch CPU threads (default: 1 on the CPU device, else torch's choice)"
    )
    return parser.parse_args()


def requests(count: int, size: int) -> list[RenderRequest]:
    return [
        RenderRequest(
            points=STANDING if index % 2 == 0 else ARMS_UP,
            depth=[0.0] * 18,
            pose_description="standing",
            prompt="a person in a studio, full body, photo",
            negative_prompt="blurry, deformed",
            width=size,
            height=size,
            quality="draft",
            seed=1000 + index,
        )
        for index in range(count)
    ]


async def batched(engine: DiffusersEngine, items: list[RenderRequest], size: int) -> None:
    for start in range(0, len(items), size):
        chunk = items[start : start + size]
        outcomes = await engine.render_batch(chunk, [DetachedContext() for _ in chunk])
        failed = [outcome for outcome in outcomes if isinstance(outcome, EngineError)]
        if failed:
            raise RuntimeError(f"batch of {size} failed: {failed[0].code}: {failed[0].message}")


async def one_by_one(engine: DiffusersEngine, items: list[RenderRequest]) -> None:
    for item in items:
        await engine.render(item, DetachedContext())


def mode_order(modes: list[str], repeat: int) -> list[str]:
    """The modes rotated by `repeat`: on a shared machine, drift hits every mode alike."""
    shift = repeat % len(modes)
    return modes[shift:] + modes[:shift]


async def measure(args: argparse.Namespace, base: str, controlnet: str) -> dict[str, Any]:
    import torch

    # One intra-op thread on the CPU: on a small shared machine, torch's threads spin-waiting for
    # each other behind other processes made runs 5-10 × slower and erratic (2 threads, load 3-4).
    threads = args.threads or (1 if args.device == "cpu" else None)
    if threads:
        torch.set_num_threads(threads)
    size = args.size or (512 if args.model else 64)
    steps = args.steps or (20 if args.model else 4)
    settings = EngineSettings(
        diffusers_enabled=True,
        diffusers_base_model=base,
        diffusers_controlnet=controlnet,
        diffusers_variant=args.variant,
        diffusers_device=args.device,
        diffusers_steps_draft=steps,
    )
    engine = await asyncio.to_thread(DiffusersEngine.from_settings, settings, batch_size=max(BATCH_SIZES))
    cuda = engine.info.device.startswith("cuda")
    items = requests(args.images, size)
    runs: dict[str, Callable[[], Awaitable[None]]] = {
        str(batch): partial(batched, engine, items, batch) for batch in BATCH_SIZES
    }
    runs["one_by_one"] = partial(one_by_one, engine, items)
    seconds: dict[str, list[float]] = {mode: [] for mode in runs}
    memory: dict[str, float] = {}
    try:
        for mode, run in runs.items():  # warm-up and peak memory, one mode at a time
            if cuda:
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            await run()
            if cuda:
                memory[mode] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        for repeat in range(args.repeats):
            for mode in mode_order(list(runs), repeat):
                started = time.perf_counter()
                await runs[mode]()
                seconds[mode].append(time.perf_counter() - started)
    finally:
        await engine.aclose()
    rates = {mode: len(items) / statistics.median(values) for mode, values in seconds.items()}
    results: dict[str, Any] = {}
    for batch in map(str, BATCH_SIZES):
        results[batch] = {
            "median_s": round(statistics.median(seconds[batch]), 3),
            "min_s": round(min(seconds[batch]), 3),
            "images_per_s": round(rates[batch], 2),
            "speedup_vs_one_by_one": round(rates[batch] / rates["one_by_one"], 2),
        }
        if cuda:
            results[batch]["max_memory_allocated_mib"] = memory[batch]
    single_rate = rates["one_by_one"]
    ratio = rates["4"] / rates["1"]
    return {
        "device": engine.info.device,
        "dtype": engine.info.dtype,
        "size": [size, size],
        "steps": steps,
        "images_per_run": len(items),
        "repeats": args.repeats,
        "one_by_one_images_per_s": round(single_rate, 2),
        "batch_sizes": results,
        "batch4_over_batch1": round(ratio, 2),
        "target": f"batch 4 ≥ {TARGET_RATIO:g} × batch 1 on a GPU",
        # On the CPU (or with the tiny model) the ratio is only reported.
        "pass": ratio >= TARGET_RATIO if cuda and args.model else None,
    }


async def main() -> dict[str, Any]:
    args = parse()
    if args.images % max(BATCH_SIZES):
        raise SystemExit("--images must be a multiple of 8")
    started = time.perf_counter()
    meta = _setup.metadata()
    import diffusers
    import torch

    if args.model:
        figures = await measure(args, args.model, args.controlnet)
        model = {"base_model": args.model, "controlnet": args.controlnet, "variant": args.variant}
    else:
        # The tests' tiny model: benchmarks run from the repository root, which holds `tests`.
        sys.path.insert(0, str(_setup.ROOT))
        from tests.engines.tiny_diffusers import write_tiny_models

        with _setup.scratch_directory("posegen-b11-") as scratch:
            tiny = await asyncio.to_thread(write_tiny_models, Path(scratch), 0)
            figures = await measure(args, str(tiny.base), str(tiny.controlnet))
        model = {
            "base_model": "tiny random-weight SD 1.5 (tests/engines/tiny_diffusers.py)",
            "variant": "sd15",
        }
    return {
        "benchmark": "B11 GPU batching",
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        **meta,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "torch_threads": torch.get_num_threads(),
        "model": model,
        **figures,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    import json

    _setup.quiet_logging()
    print(json.dumps(_setup.run_benchmark(main), indent=2))
