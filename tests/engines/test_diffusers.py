"""The `diffusers` engine on the CPU, with a tiny random-weight SD 1.5 + ControlNet written to disk.

The model goes through the engine's own loading code (`from_pretrained(..., local_files_only=True)`)
from a temporary directory; renders are 64 × 64 with a few steps, so the file runs in seconds.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

# The filter snapshot_download applies; huggingface_hub.utils imports it without listing it in __all__.
from huggingface_hub.utils import filter_repo_objects  # type: ignore[attr-defined]
from PIL import Image

from posegen.config import EngineSettings
from posegen.engines.base import BatchingEngine, DetachedContext, EngineError, ErrorCode, RenderRequest
from posegen.engines.diffusers import (
    DiffusersEngine,
    ModelMissing,
    ModelSpec,
    pull_models,
)
from posegen.engines.diffusers.calls import OOM_RETRY_AFTER, pipeline_error
from posegen.engines.diffusers.pull import SKIPPED, wanted
from posegen.engines.registry import EngineRegistry
from posegen.kit.openpose import Point
from tests.engines.tiny_diffusers import TINY_IP_WEIGHT, TinyModels, write_tiny_ip_adapter, write_tiny_models
from tests.fixtures.app import make_settings

ROOT = Path(__file__).resolve().parents[2]
STEPS = 3
CANCEL_STEPS = 40

STANDING: list[Point] = [
    (0.5, 0.15, 1), (0.5, 0.25, 1), (0.42, 0.25, 1), (0.4, 0.38, 1), (0.39, 0.5, 1), (0.58, 0.25, 1),
    (0.6, 0.38, 1), (0.61, 0.5, 1), (0.45, 0.52, 1), (0.45, 0.7, 1), (0.45, 0.88, 1), (0.55, 0.52, 1),
    (0.55, 0.7, 1), (0.55, 0.88, 1), (0.48, 0.13, 1), (0.52, 0.13, 1), (0.46, 0.14, 1), (0.54, 0.14, 1),
]  # fmt: skip
# The same figure with both arms raised above the head.
ARMS_UP: list[Point] = [
    *STANDING[:3], (0.38, 0.14, 1), (0.36, 0.03, 1), STANDING[5], (0.62, 0.14, 1), (0.64, 0.03, 1),
    *STANDING[8:],
]  # fmt: skip


# Largest difference, in 8-bit levels, between equal renders computed in another order (a batch
# against one at a time): float rounding, carried through the steps and the VAE's four levels.
# Renders that differ in seed, pose or prompt differ by far more.
ROUNDING = 6


def request(**changes: Any) -> RenderRequest:
    base = RenderRequest(
        points=STANDING,
        depth=[0.0] * 18,
        pose_description="standing",
        prompt="a person standing in a studio",
        negative_prompt="blurry",
        width=64,
        height=64,
        quality="draft",
        seed=7,
    )
    return replace(base, **changes)


def pixels(image: Any) -> np.ndarray[Any, np.dtype[np.int16]]:
    return np.asarray(image, dtype=np.int16)


def engine_settings(models: TinyModels, **changes: Any) -> EngineSettings:
    values: dict[str, Any] = {
        "diffusers_enabled": True,
        "diffusers_base_model": str(models.base),
        "diffusers_controlnet": str(models.controlnet),
        "diffusers_device": "cpu",
        "diffusers_steps_draft": STEPS,
        "diffusers_steps_standard": STEPS + 1,
        "diffusers_steps_pro": CANCEL_STEPS,
        "diffusers_guidance": 5.0,
    }
    values.update(changes)
    return EngineSettings(**values)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TinyModels]:
    # One intra-op thread: the tiny model gains nothing from more, and on a busy 2-core machine
    # torch's threads waiting for each other made single renders take seconds instead of ~50 ms.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield write_tiny_models(tmp_path_factory.mktemp("tiny-diffusers"), seed=0)
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
async def engine(tiny_models: TinyModels) -> AsyncIterator[DiffusersEngine]:
    engine = DiffusersEngine.from_settings(engine_settings(tiny_models), batch_size=4)
    yield engine
    await engine.aclose()


@pytest.fixture(scope="module")
async def avatar_engine(
    tiny_models: TinyModels, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DiffusersEngine]:
    adapter = write_tiny_ip_adapter(tmp_path_factory.mktemp("tiny-ip-adapter"), tiny_models)
    settings = engine_settings(
        tiny_models,
        diffusers_ip_adapter=str(adapter),
        diffusers_ip_adapter_weight=TINY_IP_WEIGHT,
        diffusers_ip_adapter_scale=1.0,
    )
    engine = DiffusersEngine.from_settings(settings, batch_size=4)
    yield engine
    await engine.aclose()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every outgoing connection attempt is refused and recorded (the Hub's client included)."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


async def test_the_engine_is_a_batching_engine_that_describes_its_model(
    engine: DiffusersEngine, tiny_models: TinyModels
) -> None:
    assert isinstance(engine, BatchingEngine)
    assert engine.available() and engine.supports_control_image
    assert engine.describe() == {
        "base_model": str(tiny_models.base),
        "controlnet": str(tiny_models.controlnet),
        "variant": "sd15",
        "device": "cpu",
        "dtype": "float32",
        "ip_adapter": None,
        "batch_size": 4,
    }


async def test_output_is_rgb_at_the_requested_size(engine: DiffusersEngine) -> None:
    square = await engine.render(request(), DetachedContext())
    assert square.image.mode == "RGB" and square.image.size == (64, 64)
    # 60 × 44 is no multiple of 8: rendered at 64 × 48, handed back at the size asked for.
    odd = await engine.render(request(width=60, height=44), DetachedContext())
    assert odd.image.mode == "RGB" and odd.image.size == (60, 44)


async def test_the_same_seed_gives_the_same_pixels_another_seed_others(engine: DiffusersEngine) -> None:
    first = await engine.render(request(seed=11), DetachedContext())
    again = await engine.render(request(seed=11), DetachedContext())
    other = await engine.render(request(seed=12), DetachedContext())
    assert np.array_equal(pixels(first.image), pixels(again.image))
    assert np.abs(pixels(first.image) - pixels(other.image)).mean() > 1.0


async def test_the_control_map_reaches_the_controlnet(engine: DiffusersEngine) -> None:
    standing = await engine.render(request(points=STANDING), DetachedContext())
    standing_again = await engine.render(request(points=STANDING), DetachedContext())
    arms_up = await engine.render(request(points=ARMS_UP), DetachedContext())
    assert np.array_equal(pixels(standing.image), pixels(standing_again.image))
    # Only the keypoints differ, so only the control image can have changed the render.
    assert not np.array_equal(pixels(standing.image), pixels(arms_up.image))


async def test_every_step_is_reported_in_order(engine: DiffusersEngine) -> None:
    context = DetachedContext()
    await engine.render(request(quality="standard"), context)
    assert context.steps == [(step, STEPS + 1) for step in range(1, STEPS + 2)]


async def test_cancelling_stops_between_steps_and_frees_the_device(engine: DiffusersEngine) -> None:
    reported: list[tuple[int, int]] = []
    task: asyncio.Task[Any] | None = None

    class CancelAtFirstStep(DetachedContext):
        def progress(self, step: int, steps: int) -> None:
            reported.append((step, steps))
            if task is not None and step == 1:
                task.cancel()

    task = asyncio.create_task(engine.render(request(quality="pro"), CancelAtFirstStep()))
    with pytest.raises(asyncio.CancelledError):
        await task
    assert reported[0] == (1, CANCEL_STEPS)
    # It stopped long before its last step (the cancel reaches the render thread within a step or two).
    assert max(step for step, _ in reported) < CANCEL_STEPS // 2
    # The device is free again: the next render runs at once and completes.
    done = await asyncio.wait_for(engine.render(request(), DetachedContext()), timeout=30)
    assert done.image.size == (64, 64)


async def test_a_batch_gives_what_each_request_gives_alone(engine: DiffusersEngine) -> None:
    requests = [
        request(seed=1),
        request(seed=2, points=ARMS_UP),
        request(seed=3, prompt="a dancer on a stage", negative_prompt="dark"),
        request(seed=4, points=ARMS_UP, prompt="a climber"),
    ]
    assert len({engine.batch_key(item) for item in requests}) == 1
    contexts = [DetachedContext() for _ in requests]
    batch = await engine.render_batch(requests, contexts)
    assert len(batch) == 4
    for item, outcome, context in zip(requests, batch, contexts, strict=True):
        assert not isinstance(outcome, EngineError)
        alone = await engine.render(item, DetachedContext())
        # Batched matrix products sum in another order: equal up to float rounding.
        difference = np.abs(pixels(outcome.image) - pixels(alone.image))
        assert difference.max() <= ROUNDING, difference.max()
        assert context.steps == [(step, STEPS) for step in range(1, STEPS + 1)]
    # The four images differ from each other: each request got its own seed, pose and prompt.
    images = [pixels(outcome.image) for outcome in batch if not isinstance(outcome, EngineError)]
    assert all(not np.array_equal(images[0], other) for other in images[1:])


RED = Image.new("RGB", (48, 48), (230, 30, 30))
NOISE = Image.fromarray(np.random.default_rng(3).integers(0, 256, (48, 48, 3), dtype=np.uint8))


async def test_the_avatar_image_conditions_the_render_through_the_ip_adapter(
    avatar_engine: DiffusersEngine, engine: DiffusersEngine
) -> None:
    red = await avatar_engine.render(request(avatar_image=RED), DetachedContext())
    red_again = await avatar_engine.render(request(avatar_image=RED), DetachedContext())
    noise = await avatar_engine.render(request(avatar_image=NOISE), DetachedContext())
    none = await avatar_engine.render(request(), DetachedContext())
    assert np.array_equal(pixels(red.image), pixels(red_again.image))
    assert not np.array_equal(pixels(red.image), pixels(noise.image))
    assert not np.array_equal(pixels(red.image), pixels(none.image))
    # Without an avatar image the adapter is off (scale 0): the render of the engine without one.
    plain = await engine.render(request(), DetachedContext())
    assert np.abs(pixels(none.image) - pixels(plain.image)).max() <= ROUNDING
    # With and without an avatar image cannot share a call (the adapter's scale is per call).
    assert avatar_engine.batch_key(request(avatar_image=RED)) != avatar_engine.batch_key(request())
    assert engine.batch_key(request(avatar_image=RED)) == engine.batch_key(request())


async def test_a_batch_of_avatar_renders_gives_what_each_gives_alone(avatar_engine: DiffusersEngine) -> None:
    requests = [request(seed=1, avatar_image=RED), request(seed=2, avatar_image=NOISE, points=ARMS_UP)]
    batch = await avatar_engine.render_batch(requests, [DetachedContext(), DetachedContext()])
    for item, outcome in zip(requests, batch, strict=True):
        assert not isinstance(outcome, EngineError), outcome
        alone = await avatar_engine.render(item, DetachedContext())
        assert np.abs(pixels(outcome.image) - pixels(alone.image)).max() <= ROUNDING


async def test_batch_keys_part_what_cannot_share_a_call(engine: DiffusersEngine) -> None:
    key = engine.batch_key(request())
    assert engine.batch_key(request(seed=99, points=ARMS_UP, prompt="other")) == key
    assert engine.batch_key(request(width=128)) != key
    assert engine.batch_key(request(quality="standard")) != key
    with pytest.raises(ValueError, match="batch_key"):
        await engine.render_batch([request(), request(width=128)], [DetachedContext(), DetachedContext()])
    with pytest.raises(ValueError, match="batch size"):
        await engine.render_batch([request()] * 5, [DetachedContext()] * 5)


async def test_a_closed_engine_is_unavailable_and_refuses_work(tiny_models: TinyModels) -> None:
    engine = DiffusersEngine.from_settings(engine_settings(tiny_models))
    await engine.aclose()
    assert not engine.available()
    with pytest.raises(EngineError) as refused:
        await engine.render(request(), DetachedContext())
    assert refused.value.code is ErrorCode.PROVIDER_UNAVAILABLE and refused.value.retryable


@pytest.mark.parametrize("which", ["base", "controlnet", "hub id"])
def test_a_missing_model_fails_at_start_without_network(
    tiny_models: TinyModels, tmp_path: Path, no_network: list[object], which: str
) -> None:
    missing = {"base": str(tmp_path / "no-such-model"), "controlnet": str(tmp_path / "no-such-controlnet")}
    missing["hub id"] = "posegen-tests/not-in-any-cache"
    setting = "diffusers_controlnet" if which == "controlnet" else "diffusers_base_model"
    with pytest.raises(ModelMissing) as failed:
        DiffusersEngine.from_settings(engine_settings(tiny_models, **{setting: missing[which]}))
    assert failed.value.model == missing[which]
    assert missing[which] in failed.value.message and "posegen models pull" in failed.value.message
    assert no_network == []


def test_the_registry_offers_diffusers_only_when_enabled(tiny_models: TinyModels, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'unused.db'}"
    off = EngineRegistry.from_settings(make_settings(database, tmp_path))
    listed = off.get("diffusers")  # listed, so people see it exists, but nothing is loaded
    assert listed is not None and not listed.available() and not isinstance(listed, DiffusersEngine)
    on = EngineRegistry.from_settings(
        make_settings(database, tmp_path, engines=engine_settings(tiny_models).model_dump())
    )
    engine = on.get("diffusers")
    assert isinstance(engine, DiffusersEngine) and engine.available()
    asyncio.run(on.aclose())
    assert not engine.available()


def test_pull_uses_local_directories_where_they_are(
    tiny_models: TinyModels, no_network: list[object]
) -> None:
    spec = ModelSpec(base_model=str(tiny_models.base), controlnet=str(tiny_models.controlnet))
    outcomes = pull_models(spec)
    assert [(o.role, o.path, o.pulled) for o in outcomes] == [
        ("base model", tiny_models.base.resolve(), False),
        ("controlnet", tiny_models.controlnet.resolve(), False),
    ]
    assert no_network == []


# The files of the default repositories (their listing on the Hub, abridged to one of each kind).
SD15_FILES = [
    ".gitattributes", "README.md", "model_index.json", "v1-5-pruned.safetensors", "v1-5-pruned.ckpt",
    "v1-5-pruned-emaonly.safetensors", "v1-inference.yaml", "feature_extractor/preprocessor_config.json",
    "safety_checker/config.json", "safety_checker/model.safetensors", "scheduler/scheduler_config.json",
    "text_encoder/config.json", "text_encoder/model.safetensors", "text_encoder/model.fp16.safetensors",
    "text_encoder/pytorch_model.bin", "tokenizer/merges.txt", "tokenizer/special_tokens_map.json",
    "tokenizer/tokenizer_config.json", "tokenizer/vocab.json", "unet/config.json",
    "unet/diffusion_pytorch_model.safetensors", "unet/diffusion_pytorch_model.fp16.safetensors",
    "unet/diffusion_pytorch_model.non_ema.safetensors", "unet/diffusion_pytorch_model.bin",
    "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
    "vae/diffusion_pytorch_model.fp16.safetensors",
]  # fmt: skip
CONTROLNET_FILES = [
    "README.md", "config.json", "diffusion_pytorch_model.safetensors",
    "diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.bin", "images/control.png",
    "images/image_out.png",
]  # fmt: skip
IP_ADAPTER_FILES = [
    "models/ip-adapter_sd15.safetensors", "models/ip-adapter_sd15.bin",
    "models/ip-adapter-plus_sd15.safetensors",
    "models/image_encoder/config.json", "models/image_encoder/model.safetensors",
    "models/image_encoder/pytorch_model.bin", "sdxl_models/ip-adapter_sdxl.safetensors",
]  # fmt: skip


def test_pull_fetches_only_what_the_pipeline_loads() -> None:
    spec = replace(ModelSpec.from_settings(EngineSettings()), ip_adapter="h94/IP-Adapter")
    listings = {"base model": SD15_FILES, "controlnet": CONTROLNET_FILES, "ip-adapter": IP_ADAPTER_FILES}
    fetched = {
        role: sorted(
            filter_repo_objects(listings[role], allow_patterns=list(patterns), ignore_patterns=list(SKIPPED))
        )
        for role, _, patterns in wanted(spec)
    }
    assert fetched == {
        "base model": [
            "feature_extractor/preprocessor_config.json",  # model_index.json lists it: it is loaded
            "model_index.json", "scheduler/scheduler_config.json", "text_encoder/config.json",
            "text_encoder/model.safetensors", "tokenizer/merges.txt", "tokenizer/special_tokens_map.json",
            "tokenizer/tokenizer_config.json", "tokenizer/vocab.json", "unet/config.json",
            "unet/diffusion_pytorch_model.safetensors", "vae/config.json",
            "vae/diffusion_pytorch_model.safetensors",
        ],
        "controlnet": ["config.json", "diffusion_pytorch_model.safetensors"],
        "ip-adapter": [
            "models/image_encoder/config.json", "models/image_encoder/model.safetensors",
            "models/ip-adapter_sd15.safetensors",
        ],
    }  # fmt: skip


def _posegen(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("POSEGEN_", "HF_"))}
    env |= {
        "POSEGEN_ENV": "test",
        "POSEGEN_DATA_DIR": str(tmp_path / "data"),
        "POSEGEN_LOG_LEVEL": "WARNING",
        "HF_HOME": str(tmp_path / "hf-home"),  # an empty cache
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
        **variables,
    }
    return subprocess.run(
        [sys.executable, "-m", "posegen", "models", "pull"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_models_pull_command_reports_local_models_and_a_failed_fetch(
    tiny_models: TinyModels, tmp_path: Path
) -> None:
    present = _posegen(
        tmp_path,
        POSEGEN_ENGINES_DIFFUSERS_BASE_MODEL=str(tiny_models.base),
        POSEGEN_ENGINES_DIFFUSERS_CONTROLNET=str(tiny_models.controlnet),
    )
    assert present.returncode == 0, present.stderr
    lines = present.stdout.splitlines()
    assert lines == [
        f"base model: {tiny_models.base}: present (local directory, nothing to pull) at "
        f"{tiny_models.base.resolve()}",
        f"controlnet: {tiny_models.controlnet}: present (local directory, nothing to pull) at "
        f"{tiny_models.controlnet.resolve()}",
    ]
    # A Hub id with the Hub out of reach (offline, empty cache): a clear error, exit status 1.
    offline = _posegen(
        tmp_path,
        POSEGEN_ENGINES_DIFFUSERS_BASE_MODEL=str(tiny_models.base),
        POSEGEN_ENGINES_DIFFUSERS_CONTROLNET="posegen-tests/not-in-any-cache",
    )
    assert offline.returncode == 1
    assert "error: could not fetch 'posegen-tests/not-in-any-cache'" in offline.stderr


def test_out_of_device_memory_is_retryable_other_failures_are_not() -> None:
    cuda = pipeline_error(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), "x")
    mps = pipeline_error(RuntimeError("MPS backend out of memory (MPS allocated: 17.00 GB)"), "x")
    for error in (cuda, mps):
        assert error.code is ErrorCode.PROVIDER_UNAVAILABLE
        assert error.retryable and error.retry_after == OOM_RETRY_AFTER and not error.opens_breaker
    broken = pipeline_error(ValueError("`image` has batch size 3, prompt has batch size 4"), "a batch of 4")
    assert broken.code is ErrorCode.INTERNAL and not broken.retryable
    assert "a batch of 4" in broken.message and "batch size 3" in broken.message


# Run in a fresh interpreter where torch, diffusers and transformers cannot be imported (as without
# the `local` extra): every posegen module still imports, and enabling the engine names the extra.
WITHOUT_EXTRA = """
import importlib, pkgutil, sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {"torch", "diffusers", "transformers"}:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, NotInstalled())
import posegen
for module in pkgutil.walk_packages(posegen.__path__, "posegen."):
    if module.name != "posegen.__main__":
        importlib.import_module(module.name)
from posegen.config import EngineSettings
from posegen.engines.diffusers import DiffusersEngine, ExtraMissing
try:
    DiffusersEngine.from_settings(EngineSettings(diffusers_enabled=True))
except ExtraMissing as exc:
    print(exc.message)
print(sorted(name for name in sys.modules if name.partition(".")[0] in {"torch", "diffusers"}))
"""


def test_posegen_imports_without_the_extra_and_enabling_the_engine_names_it(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("POSEGEN_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRA],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == [
        "the diffusers engine needs the `local` extra (torch is not installed): pip install 'posegen[local]'",
        "[]",
    ]
