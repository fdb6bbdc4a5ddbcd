"""ComfyUIEngine against the fake ComfyUI server over real HTTP and WebSocket on loopback."""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from posegen.config import EngineSettings, Settings
from posegen.engines.base import (
    DetachedContext,
    EngineError,
    ErrorCode,
    Quality,
    RemoteJob,
    RenderRequest,
    control_image,
)
from posegen.engines.breaker import CircuitBreaker
from posegen.engines.comfyui import ComfyUIEngine, Workflow, WorkflowError
from posegen.engines.registry import EngineRegistry
from tests.fixtures.fake_comfyui import FakeComfyUI, derived_image
from tests.imaging.test_control_map import RAISED_ARMS, STANDING

CHECKPOINT = "v1-5-pruned-emaonly.safetensors"
CONTROLNET = "control_v11p_sd15_openpose.pth"
STEPS: dict[Quality, int] = {"draft": 6, "standard": 9, "pro": 12}


@pytest.fixture(scope="module")
def running_server() -> Iterator[FakeComfyUI]:
    with FakeComfyUI() as server:
        yield server


@pytest.fixture
def server(running_server: FakeComfyUI) -> FakeComfyUI:
    running_server.reset()
    return running_server


@pytest.fixture
def extra_servers() -> Iterator[Callable[[], FakeComfyUI]]:
    """Starts more fake servers for one test and stops them after it."""
    started: list[FakeComfyUI] = []

    def start() -> FakeComfyUI:
        started.append(FakeComfyUI().start())
        return started[-1]

    yield start
    for extra in started:
        extra.stop()


def make_engine(
    urls: Sequence[str],
    *,
    workflow: Workflow | None = None,
    checkpoint: str = CHECKPOINT,
    timeout: float = 10.0,
    failures: int = 3,
) -> ComfyUIEngine:
    return ComfyUIEngine(
        urls,
        workflow or Workflow.load(None, checkpoint=checkpoint, controlnet=CONTROLNET),
        steps=STEPS,
        cfg=7.5,
        timeout_seconds=timeout,
        breakers=lambda: CircuitBreaker(failures, 60),
        poll_seconds=0.2,
    )


@pytest.fixture
async def engine(server: FakeComfyUI) -> AsyncIterator[ComfyUIEngine]:
    engine = make_engine([server.url])
    yield engine
    await engine.aclose()


def make_request(
    seed: int = 7,
    width: int = 96,
    height: int = 64,
    quality: Quality = "draft",
    points: Sequence[tuple[float, float, float]] = STANDING,
    avatar_image: Image.Image | None = None,
) -> RenderRequest:
    return RenderRequest(
        points=points,
        depth=[0.0] * 18,
        pose_description="standing",
        prompt="a person standing, studio light",
        negative_prompt="blurry",
        width=width,
        height=height,
        quality=quality,
        seed=seed,
        avatar_image=avatar_image,
    )


async def render_error(
    engine: ComfyUIEngine, request: RenderRequest | None = None, context: DetachedContext | None = None
) -> EngineError:
    with pytest.raises(EngineError) as caught:
        await engine.render(request or make_request(), context or DetachedContext())
    return caught.value


async def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def decoded(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def nodes_of(prompt: dict[str, Any], class_type: str) -> list[dict[str, Any]]:
    return [node for node in prompt.values() if node["class_type"] == class_type]


# -- rendering -----------------------------------------------------------------------------------


async def test_render_returns_the_image_derived_from_the_poses_control_map(
    engine: ComfyUIEngine, server: FakeComfyUI
) -> None:
    request = make_request(seed=11, width=96, height=64)
    context = DetachedContext()
    result = await engine.render(request, context)

    assert result.image.size == (96, 64) and result.image.mode == "RGB"
    expected_control = control_image(request)
    [job] = context.remembered
    [prompt_id] = server.prompts
    assert job == RemoteJob(server=server.url, job_id=prompt_id)
    [load] = nodes_of(server.prompts[prompt_id], "LoadImage")
    uploaded = decoded(server.uploads[load["inputs"]["image"]])
    assert uploaded.tobytes() == expected_control.tobytes()  # the server saw this pose's map
    assert result.image.tobytes() == derived_image(expected_control, 96, 64, 11).tobytes()
    # Another pose gives another picture: the result follows the pose.
    other = await engine.render(make_request(seed=11, points=RAISED_ARMS), DetachedContext())
    assert other.image.tobytes() != result.image.tobytes()


async def test_placeholders_are_replaced_with_typed_values(
    engine: ComfyUIEngine, server: FakeComfyUI
) -> None:
    request = make_request(seed=123456789, width=128, height=96, quality="standard")
    context = DetachedContext()
    await engine.render(request, context)

    prompt_id = context.remembered[0].job_id
    prompt = server.prompts[prompt_id]
    assert "$" not in "".join(value for value in _strings(prompt) if value.startswith("$"))
    [sampler] = nodes_of(prompt, "KSampler")
    assert sampler["inputs"]["seed"] == 123456789 and type(sampler["inputs"]["seed"]) is int
    assert sampler["inputs"]["steps"] == 9 and type(sampler["inputs"]["steps"]) is int
    assert sampler["inputs"]["cfg"] == 7.5
    [latent] = nodes_of(prompt, "EmptyLatentImage")
    assert (latent["inputs"]["width"], latent["inputs"]["height"]) == (128, 96)
    assert sorted(node["inputs"]["text"] for node in nodes_of(prompt, "CLIPTextEncode")) == [
        "a person standing, studio light",
        "blurry",
    ]
    assert nodes_of(prompt, "CheckpointLoaderSimple")[0]["inputs"]["ckpt_name"] == CHECKPOINT
    assert nodes_of(prompt, "ControlNetLoader")[0]["inputs"]["control_net_name"] == CONTROLNET
    assert prompt_id in nodes_of(prompt, "SaveImage")[0]["inputs"]["filename_prefix"]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


async def test_same_seed_reproduces_the_image_and_another_seed_does_not(engine: ComfyUIEngine) -> None:
    first = await engine.render(make_request(seed=5), DetachedContext())
    again = await engine.render(make_request(seed=5), DetachedContext())
    other = await engine.render(make_request(seed=6), DetachedContext())
    assert first.image.tobytes() == again.image.tobytes()
    assert first.image.tobytes() != other.image.tobytes()


async def test_progress_reports_every_sampler_step(engine: ComfyUIEngine, server: FakeComfyUI) -> None:
    server.step_delay = 0.01
    context = DetachedContext()
    await engine.render(make_request(quality="pro"), context)
    assert context.steps == [(step, 12) for step in range(1, 13)]


# -- errors --------------------------------------------------------------------------------------


async def test_node_errors_are_a_permanent_bad_request(server: FakeComfyUI) -> None:
    engine = make_engine([server.url], checkpoint="missing-model.safetensors")
    try:
        error = await render_error(engine)
        assert error.code is ErrorCode.PROVIDER_BAD_REQUEST and not error.retryable
        assert "ckpt_name" in error.message and "missing-model.safetensors" in error.message
        assert server.history_of(next(iter(server.prompts))) is None  # never queued
        assert engine.servers()[0].breaker == "closed"  # a healthy server judged the prompt
    finally:
        await engine.aclose()


async def test_out_of_memory_is_retryable(engine: ComfyUIEngine, server: FakeComfyUI) -> None:
    server.execution_error = "CUDA out of memory. Tried to allocate 2.00 GiB"
    server.exception_type = "torch.OutOfMemoryError"
    error = await render_error(engine)
    assert error.code is ErrorCode.PROVIDER_UNAVAILABLE and error.retryable
    assert "out of memory" in error.message


async def test_other_execution_error_is_internal_and_permanent(
    engine: ComfyUIEngine, server: FakeComfyUI
) -> None:
    server.execution_error = "mat1 and mat2 shapes cannot be multiplied (77x768 and 1024x320)"
    error = await render_error(engine)
    assert error.code is ErrorCode.INTERNAL and not error.retryable
    assert "shapes cannot be multiplied" in error.message


async def test_timeout_is_a_retryable_provider_timeout(server: FakeComfyUI) -> None:
    server.step_delay = 0.2
    engine = make_engine([server.url], timeout=0.3)
    try:
        started = time.monotonic()
        error = await render_error(engine)
        assert time.monotonic() - started < 2
        assert error.code is ErrorCode.PROVIDER_TIMEOUT and error.retryable
        assert server.interrupts == []  # the prompt is left to run: the next attempt re-attaches
    finally:
        await engine.aclose()


async def test_a_dropped_socket_falls_back_to_polling(engine: ComfyUIEngine, server: FakeComfyUI) -> None:
    server.step_delay = 0.05
    context = DetachedContext()
    request = make_request()
    task = asyncio.create_task(engine.render(request, context))
    await until(lambda: bool(context.steps))
    server.drop_sockets()
    result = await task
    assert result.image.tobytes() == derived_image(control_image(request), 96, 64, 7).tobytes()
    assert context.steps[-1] != (6, 6)  # the last steps were not heard: polling found the end
    assert server.total_prompt_posts == 1


async def test_a_server_that_forgets_the_prompt_fails_it_retryably(
    engine: ComfyUIEngine, server: FakeComfyUI
) -> None:
    server.step_delay = 0.1
    context = DetachedContext()
    task = asyncio.create_task(engine.render(make_request(), context))
    await until(lambda: bool(context.steps))
    server.reset()  # as a restart: ComfyUI keeps its queue and history in memory only
    with pytest.raises(EngineError) as caught:
        await task
    assert caught.value.code is ErrorCode.PROVIDER_UNAVAILABLE and caught.value.retryable
    assert "no longer knows" in caught.value.message


# -- several servers ------------------------------------------------------------------------------


async def test_first_server_down_renders_on_the_second(
    server: FakeComfyUI, extra_servers: Callable[[], FakeComfyUI]
) -> None:
    down = extra_servers()
    down.stop()
    engine = make_engine([down.url, server.url])
    try:
        result = await engine.render(make_request(), DetachedContext())
        assert result.image.size == (96, 64)
        assert server.total_prompt_posts == 1
        health = {item.url: item for item in engine.servers()}
        assert health[down.url].queue_remaining is None  # never reached
        assert health[server.url].queue_remaining is not None
    finally:
        await engine.aclose()


async def test_a_server_that_crashes_before_the_prompt_hands_it_to_the_next(
    server: FakeComfyUI, extra_servers: Callable[[], FakeComfyUI]
) -> None:
    crashing = extra_servers()
    crashing.crash_after = "POST /upload/image"
    engine = make_engine([crashing.url, server.url])
    try:
        context = DetachedContext()
        request = make_request()
        result = await engine.render(request, context)
        assert crashing.requests == ["GET /prompt", "POST /upload/image"]  # chosen, then gone
        assert crashing.total_prompt_posts == 0 and server.total_prompt_posts == 1
        assert [job.server for job in context.remembered] == [server.url]
        assert result.image.tobytes() == derived_image(control_image(request), 96, 64, 7).tobytes()
    finally:
        await engine.aclose()


async def test_all_servers_down_is_retryable_and_opens_their_breakers(
    extra_servers: Callable[[], FakeComfyUI],
) -> None:
    first, second = extra_servers(), extra_servers()
    first.stop()
    second.stop()
    engine = make_engine([first.url, second.url], failures=1)
    try:
        error = await render_error(engine)
        assert error.code is ErrorCode.PROVIDER_UNAVAILABLE and error.retryable
        assert not engine.available()
        assert [item.breaker for item in engine.servers()] == ["open", "open"]
        blocked = await render_error(engine)
        assert blocked.retryable and blocked.retry_after is not None and blocked.retry_after > 50
    finally:
        await engine.aclose()


async def test_least_busy_server_is_chosen(
    server: FakeComfyUI, extra_servers: Callable[[], FakeComfyUI]
) -> None:
    busy = extra_servers()
    busy.pause()
    busy.enqueue_foreign(3)
    engine = make_engine([busy.url, server.url])  # the busy one comes first in the configuration
    try:
        context = DetachedContext()
        await engine.render(make_request(), context)
        assert context.remembered[0].server == server.url
        assert busy.total_prompt_posts == 0 and server.total_prompt_posts == 1
        assert {item.url: item.queue_remaining for item in engine.servers()}[busy.url] == 3
    finally:
        await engine.aclose()


# -- never paying twice ---------------------------------------------------------------------------


async def test_reattach_to_a_finished_prompt_fetches_it_without_a_new_prompt(
    engine: ComfyUIEngine, server: FakeComfyUI
) -> None:
    first = DetachedContext()
    done = await engine.render(make_request(seed=3), first)
    again = DetachedContext(remote=first.remembered[0])
    result = await engine.render(make_request(seed=3), again)
    assert result.image.tobytes() == done.image.tobytes()
    assert server.total_prompt_posts == 1
    assert again.remembered == []


async def test_reattach_to_a_running_prompt_waits_for_it_without_a_new_prompt(server: FakeComfyUI) -> None:
    server.step_delay = 0.1
    impatient = make_engine([server.url], timeout=0.3)
    patient = make_engine([server.url])
    try:
        first = DetachedContext()
        assert (await render_error(impatient, context=first)).code is ErrorCode.PROVIDER_TIMEOUT
        job = first.remembered[0]
        assert server.running == job.job_id  # still working on it
        again = DetachedContext(remote=job)
        request = make_request()
        result = await patient.render(request, again)
        assert result.image.tobytes() == derived_image(control_image(request), 96, 64, 7).tobytes()
        assert server.total_prompt_posts == 1 and server.prompt_posts[job.job_id] == 1
        assert again.remembered == []
        assert again.steps and again.steps[-1] == (6, 6)  # its events reach the re-attached render
    finally:
        await impatient.aclose()
        await patient.aclose()


async def test_reattach_to_a_pending_prompt_waits_for_it(engine: ComfyUIEngine, server: FakeComfyUI) -> None:
    server.pause()
    first = DetachedContext()
    submitter = asyncio.create_task(engine.render(make_request(), first))
    await until(lambda: bool(server.pending))
    reattached = DetachedContext(remote=first.remembered[0])
    follower = asyncio.create_task(engine.render(make_request(), reattached))
    await until(lambda: server.requests.count("GET /queue") >= 1)
    server.resume()
    submitted, followed = await asyncio.gather(submitter, follower)
    assert followed.image.tobytes() == submitted.image.tobytes()
    assert server.total_prompt_posts == 1 and reattached.remembered == []


async def test_reattach_to_an_unknown_prompt_submits_once(engine: ComfyUIEngine, server: FakeComfyUI) -> None:
    forgotten = RemoteJob(server=server.url, job_id=str(uuid.uuid4()))
    context = DetachedContext(remote=forgotten)
    result = await engine.render(make_request(), context)
    assert result.image.size == (96, 64)
    assert server.total_prompt_posts == 1 and server.prompt_posts[forgotten.job_id] == 0
    [new] = context.remembered
    assert new.server == server.url and new.job_id != forgotten.job_id


async def test_reattach_to_a_server_that_is_down_submits_elsewhere(
    server: FakeComfyUI, extra_servers: Callable[[], FakeComfyUI]
) -> None:
    gone = extra_servers()
    gone.stop()
    engine = make_engine([gone.url, server.url])
    try:
        context = DetachedContext(remote=RemoteJob(server=gone.url, job_id=str(uuid.uuid4())))
        await engine.render(make_request(), context)
        assert server.total_prompt_posts == 1
        assert context.remembered[0].server == server.url
    finally:
        await engine.aclose()


@dataclass
class OrderingContext:
    """Checks, when the job is remembered, that the server has not been sent the prompt yet."""

    server: FakeComfyUI
    remote: RemoteJob | None = None
    seen_at_remember: list[int] = field(default_factory=list)

    async def remember(self, job: RemoteJob) -> None:
        self.seen_at_remember.append(self.server.prompt_posts[job.job_id])
        self.remote = job

    def progress(self, step: int, steps: int) -> None:
        return None


async def test_the_job_is_remembered_before_the_prompt_is_posted(
    engine: ComfyUIEngine, server: FakeComfyUI
) -> None:
    context = OrderingContext(server)
    await engine.render(make_request(), context)
    assert context.seen_at_remember == [0]
    assert context.remote is not None and server.prompt_posts[context.remote.job_id] == 1


async def test_a_context_that_refuses_to_remember_stops_the_render_before_submitting(
    engine: ComfyUIEngine, server: FakeComfyUI
) -> None:
    class LeaseLost(Exception):
        pass

    class LostLease(DetachedContext):
        async def remember(self, job: RemoteJob) -> None:
            raise LeaseLost

    with pytest.raises(LeaseLost):
        await engine.render(make_request(), LostLease())
    assert server.total_prompt_posts == 0


# -- cancel ---------------------------------------------------------------------------------------


async def test_cancelling_a_running_render_interrupts_exactly_its_prompt(
    engine: ComfyUIEngine, server: FakeComfyUI
) -> None:
    server.step_delay = 0.1
    context = DetachedContext()
    task = asyncio.create_task(engine.render(make_request(), context))
    await until(lambda: bool(context.steps))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    prompt_id = context.remembered[0].job_id
    assert server.interrupts == [prompt_id] and server.queue_deletes == []
    await until(lambda: server.history_of(prompt_id) is not None)
    history = server.history_of(prompt_id)
    assert history is not None and history["status"]["status_str"] == "error"
    assert [m[0] for m in history["status"]["messages"]][-1] == "execution_interrupted"


async def test_cancelling_a_pending_render_deletes_its_prompt_from_the_queue(
    engine: ComfyUIEngine, server: FakeComfyUI
) -> None:
    server.pause()
    server.enqueue_foreign(1)
    context = DetachedContext()
    task = asyncio.create_task(engine.render(make_request(), context))
    await until(lambda: len(server.pending) == 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    prompt_id = context.remembered[0].job_id
    assert server.queue_deletes == [prompt_id] and server.interrupts == []
    assert prompt_id not in server.pending and len(server.pending) == 1  # the other client's stays


# -- workflows and settings ----------------------------------------------------------------------

NINE = {
    "CheckpointLoaderSimple",
    "CLIPTextEncode",
    "LoadImage",
    "ControlNetLoader",
    "ControlNetApplyAdvanced",
    "EmptyLatentImage",
    "KSampler",
    "VAEDecode",
    "SaveImage",
}


def test_the_shipped_default_workflow_loads_with_the_nine_node_classes() -> None:
    workflow = Workflow.load(None, checkpoint="a.safetensors", controlnet="b.pth")
    assert workflow.class_types() == NINE
    assert len(nodes_of(dict(workflow.nodes), "CLIPTextEncode")) == 2
    assert workflow.uses("$control_image") and not workflow.uses("$avatar_image")
    assert (
        nodes_of(dict(workflow.nodes), "CheckpointLoaderSimple")[0]["inputs"]["ckpt_name"] == "a.safetensors"
    )


def _write(path: Path, workflow: dict[str, Any]) -> Path:
    path.write_text(json.dumps(workflow), encoding="utf-8")
    return path


def _default_nodes() -> dict[str, Any]:
    workflow = Workflow.load(None, checkpoint=CHECKPOINT, controlnet=CONTROLNET)
    copied: dict[str, Any] = json.loads(json.dumps(dict(workflow.nodes)))
    return copied


def test_a_workflow_without_the_control_image_is_refused_at_start_up(tmp_path: Path) -> None:
    nodes = _default_nodes()
    nodes["4"]["inputs"]["image"] = "some-fixed-picture.png"
    path = _write(tmp_path / "no-control.json", nodes)
    settings = EngineSettings.model_validate(
        {"comfyui_urls": ["http://127.0.0.1:9"], "comfyui_workflow": path}
    )
    with pytest.raises(WorkflowError, match=r"does not use \$control_image.*LoadImage"):
        ComfyUIEngine.from_settings(settings)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda nodes: nodes["8"]["inputs"].update(seed="$sede"), "unknown placeholders \\$sede"),
        (lambda nodes: nodes.pop("10"), "no SaveImage node"),
        (lambda nodes: {"nodes": [], "links": []}, "UI format"),
    ],
)
def test_unusable_workflows_are_refused_with_their_reason(
    tmp_path: Path, change: Callable[[dict[str, Any]], Any], message: str
) -> None:
    nodes = _default_nodes()
    replaced = change(nodes)
    path = _write(
        tmp_path / "workflow.json", replaced if isinstance(replaced, dict) and "links" in replaced else nodes
    )
    with pytest.raises(WorkflowError, match=message):
        Workflow.load(path, checkpoint=CHECKPOINT, controlnet=CONTROLNET)


async def test_a_workflow_with_the_avatar_uploads_it(tmp_path: Path, server: FakeComfyUI) -> None:
    nodes = _default_nodes()
    nodes["11"] = {"class_type": "LoadImage", "inputs": {"image": "$avatar_image"}}
    workflow = Workflow.load(
        _write(tmp_path / "avatar.json", nodes), checkpoint=CHECKPOINT, controlnet=CONTROLNET
    )
    engine = make_engine([server.url], workflow=workflow)
    try:
        avatar = Image.new("RGB", (40, 50), (200, 120, 90))
        context = DetachedContext()
        await engine.render(make_request(avatar_image=avatar), context)
        prompt = server.prompts[context.remembered[0].job_id]
        assert decoded(server.uploads[prompt["11"]["inputs"]["image"]]).tobytes() == avatar.tobytes()
        without = await render_error(engine)
        assert without.code is ErrorCode.PROVIDER_BAD_REQUEST and "avatar" in without.message
    finally:
        await engine.aclose()


async def test_settings_and_registry_offer_comfyui_only_when_configured(server: FakeComfyUI) -> None:
    plain = EngineRegistry.from_settings(Settings())
    try:
        listed = plain.get("comfyui")  # listed, so people see it exists, but takes no work
        assert listed is not None and not listed.available() and not isinstance(listed, ComfyUIEngine)
    finally:
        await plain.aclose()
    settings = Settings.model_validate(
        {"engines": {"comfyui_urls": [server.url + "/"], "comfyui_steps_draft": 4, "breaker_failures": 2}}
    )
    registry = EngineRegistry.from_settings(settings)
    try:
        engine = registry.get("comfyui")
        assert isinstance(engine, ComfyUIEngine) and engine.available() and engine.supports_control_image
        [health] = engine.servers()
        assert health.url == server.url and health.breaker == "closed" and health.available
        context = DetachedContext()
        await engine.render(make_request(), context)
        assert context.steps[-1] == (4, 4)
    finally:
        await registry.aclose()


def test_comfyui_urls_come_from_a_json_list_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSEGEN_ENGINES_COMFYUI_URLS", '["http://gpu-1:8188/", "https://gpu-2"]')
    assert Settings().engines.comfyui_urls == ["http://gpu-1:8188", "https://gpu-2"]
    with pytest.raises(ValueError, match="http"):
        EngineSettings.model_validate({"comfyui_urls": ["gpu-1:8188"]})
