"""FluxEngine against the fake Hugging Face server over real HTTP, plus its prompt and retry helpers."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import httpx2
import pytest

from posegen.config import EngineSettings
from posegen.engines.base import DetachedContext, Engine, EngineError, ErrorCode, Quality, RenderRequest
from posegen.engines.breaker import CircuitBreaker
from posegen.engines.flux import (
    DEFAULT_RETRY_DELAYS,
    NEGATIVE_PROMPT,
    QUALITY_PROFILES,
    FluxEngine,
    build_prompt,
    parse_retry_after,
    retry_delay,
)
from posegen.engines.flux.fake_server import FakeFluxServer, Reply, fake_image
from posegen.engines.flux.prompt import QUALITY_TERMS, avatar_phrase

TOKEN = "hf_test_token_0123456789"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def running_server() -> Iterator[FakeFluxServer]:
    with FakeFluxServer(token=TOKEN) as server:
        yield server


@pytest.fixture
def server(running_server: FakeFluxServer) -> FakeFluxServer:
    running_server.reset()
    return running_server


@pytest.fixture
async def engine(server: FakeFluxServer) -> AsyncIterator[FluxEngine]:
    engine = FluxEngine(server.url, TOKEN, 5.0, CircuitBreaker(3, 60))
    yield engine
    await engine.aclose()


def make_request(
    quality: Quality = "draft", width: int = 64, height: int = 48, seed: int = 7, prompt: str = "a person"
) -> RenderRequest:
    return RenderRequest(
        points=[],
        depth=[],
        pose_description="standing",
        prompt=prompt,
        negative_prompt=NEGATIVE_PROMPT,
        width=width,
        height=height,
        quality=quality,
        seed=seed,
    )


async def render_error(engine: FluxEngine, request: RenderRequest | None = None) -> EngineError:
    with pytest.raises(EngineError) as caught:
        await engine.render(request or make_request(), DetachedContext())
    return caught.value


def test_engine_satisfies_the_protocol() -> None:
    engine: Engine = FluxEngine("http://127.0.0.1:1", TOKEN, 1.0, CircuitBreaker(1, 1))
    assert engine.name == "flux"
    assert not engine.supports_control_image
    assert engine.default_size == 1024
    assert engine.qualities == ("draft", "standard", "pro")
    assert engine.background_modes == frozenset({"ai_generate"})


# -- success --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quality", "model", "steps", "guidance"),
    [
        ("draft", "black-forest-labs/FLUX.1-schnell", 4, 0.0),
        ("standard", "black-forest-labs/FLUX.1-dev", 28, 3.5),
        ("pro", "black-forest-labs/FLUX.1-dev", 35, 3.5),
    ],
)
async def test_render_sends_the_hf_request_and_decodes_the_image(
    engine: FluxEngine, server: FakeFluxServer, quality: Quality, model: str, steps: int, guidance: float
) -> None:
    result = await engine.render(make_request(quality, width=96, height=128, seed=1234), DetachedContext())

    assert result.image.size == (96, 128)
    assert result.image.mode == "RGB"
    assert result.pixel_points is None and result.mask is None
    [seen] = server.requests
    assert seen.method == "POST"
    assert seen.path == f"/models/{model}"
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["accept"] == "image/png"
    assert seen.json == {
        "inputs": "a person",
        "parameters": {
            "negative_prompt": NEGATIVE_PROMPT,
            "width": 96,
            "height": 128,
            "num_inference_steps": steps,
            "guidance_scale": guidance,
            "seed": 1234,
        },
    }


def test_quality_table_matches_the_prices() -> None:
    assert {q: (p.model, p.steps, p.guidance) for q, p in QUALITY_PROFILES.items()} == {
        "draft": ("black-forest-labs/FLUX.1-schnell", 4, 0.0),
        "standard": ("black-forest-labs/FLUX.1-dev", 28, 3.5),
        "pro": ("black-forest-labs/FLUX.1-dev", 35, 3.5),
    }


async def test_full_size_image_is_the_fake_servers_picture(engine: FluxEngine) -> None:
    result = await engine.render(make_request("draft", width=512, height=512, seed=3), DetachedContext())
    expected = fake_image(512, 512, 3, "a person")
    assert result.image.tobytes() == expected.tobytes()  # PNG is lossless


async def test_other_provider_size_is_fitted_to_the_request(
    engine: FluxEngine, server: FakeFluxServer
) -> None:
    server.script([Reply.ok(image_size=(300, 100))])
    result = await engine.render(make_request(width=64, height=48), DetachedContext())
    assert result.image.size == (64, 48)


async def test_jpeg_answer_is_accepted(engine: FluxEngine, server: FakeFluxServer) -> None:
    server.script([Reply(200, image_format="JPEG")])
    assert (await engine.render(make_request(), DetachedContext())).image.size == (64, 48)


async def test_slow_answer_within_the_timeout_succeeds(engine: FluxEngine, server: FakeFluxServer) -> None:
    server.script([Reply.slow(0.3)])
    started = time.monotonic()
    result = await engine.render(make_request(), DetachedContext())
    assert time.monotonic() - started >= 0.3
    assert result.image.size == (64, 48)


async def test_concurrent_renders_with_a_failing_marker(engine: FluxEngine, server: FakeFluxServer) -> None:
    server.on_prompt("FAIL-ME", Reply.bad_request("no"))
    prompts = ["pose one", "pose two FAIL-ME", "pose three", "pose four"]
    results = await asyncio.gather(
        *(engine.render(make_request(prompt=p), DetachedContext()) for p in prompts), return_exceptions=True
    )
    assert [isinstance(r, EngineError) for r in results] == [False, True, False, False]
    assert len(server.requests) == 4


async def test_logs_name_model_and_status_but_not_token_or_prompt(
    engine: FluxEngine, caplog: pytest.LogCaptureFixture
) -> None:
    secret_prompt = "very private prompt text"
    with caplog.at_level("INFO"):
        await engine.render(make_request(prompt=secret_prompt), DetachedContext())
    assert "flux_render" in caplog.text and "FLUX.1-schnell" in caplog.text
    assert TOKEN not in caplog.text
    assert secret_prompt not in caplog.text


# -- provider errors --------------------------------------------------------------------------


async def test_429_with_retry_after(engine: FluxEngine, server: FakeFluxServer) -> None:
    server.script([Reply.rate_limited(retry_after=7)])
    error = await render_error(engine)
    assert error.code is ErrorCode.PROVIDER_RATE_LIMITED
    assert error.retryable
    assert error.retry_after == 7
    assert retry_delay(error, 1) == 7


async def test_429_with_http_date(engine: FluxEngine, server: FakeFluxServer) -> None:
    when = datetime.now(UTC) + timedelta(seconds=90)
    server.script([Reply.rate_limited(retry_after=format_datetime(when, usegmt=True))])
    error = await render_error(engine)
    assert error.retry_after is not None
    assert 85 <= error.retry_after <= 91


async def test_429_without_hint_uses_the_schedule(engine: FluxEngine, server: FakeFluxServer) -> None:
    server.script([Reply.rate_limited()])
    error = await render_error(engine)
    assert error.retry_after is None
    assert [retry_delay(error, n) for n in (1, 2, 3, 4)] == [10, 20, 40, 40]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply.loading(estimated_time=12.0), 12.0),
        (Reply.loading(estimated_time=12.0, retry_after=5), 5.0),  # the header wins
        (Reply.loading(estimated_time=None), 30.0),  # DATA.md's 503 delay
    ],
)
async def test_503_is_retryable(
    engine: FluxEngine, server: FakeFluxServer, reply: Reply, expected: float
) -> None:
    server.script([reply])
    error = await render_error(engine)
    assert error.code is ErrorCode.PROVIDER_UNAVAILABLE
    assert error.retryable
    assert error.retry_after == expected
    assert "loading" in error.message


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_other_5xx_is_retryable_unavailable(
    engine: FluxEngine, server: FakeFluxServer, status: int
) -> None:
    server.script([Reply.server_error(status)])
    error = await render_error(engine)
    assert error.code is ErrorCode.PROVIDER_UNAVAILABLE
    assert error.retryable and error.retry_after is None
    assert [retry_delay(error, n) for n in (1, 2, 3)] == [4, 8, 8]


@pytest.mark.parametrize("status", [400, 422, 404])
async def test_4xx_is_a_permanent_bad_request(
    engine: FluxEngine, server: FakeFluxServer, status: int
) -> None:
    server.script([Reply(status)])
    error = await render_error(engine)
    assert error.code is ErrorCode.PROVIDER_BAD_REQUEST
    assert not error.retryable and not error.opens_breaker


async def test_content_rejection(engine: FluxEngine, server: FakeFluxServer) -> None:
    server.script([Reply.content_rejected()])
    error = await render_error(engine)
    assert error.code is ErrorCode.CONTENT_REJECTED
    assert not error.retryable


async def test_rejected_prompts_do_not_open_the_breaker(engine: FluxEngine, server: FakeFluxServer) -> None:
    server.set_default(Reply.content_rejected())
    for _ in range(5):
        await render_error(engine)
    assert engine.breaker.state == "closed"
    assert engine.available()


async def test_200_without_an_image_is_internal(engine: FluxEngine, server: FakeFluxServer) -> None:
    server.script([Reply(200, content=b'{"oops": true}', content_type="application/json")])
    error = await render_error(engine)
    assert error.code is ErrorCode.INTERNAL
    assert not error.retryable


@pytest.mark.parametrize("reply", [Reply.unauthorized(), Reply(403)])
async def test_auth_failure_opens_the_breaker(
    engine: FluxEngine, server: FakeFluxServer, reply: Reply
) -> None:
    server.script([reply])
    error = await render_error(engine)
    assert error.code is ErrorCode.PROVIDER_AUTH
    assert not error.retryable and error.opens_breaker
    assert engine.breaker.state == "open"
    assert not engine.available()


async def test_wrong_token_is_refused_then_breaker_stops_requests(server: FakeFluxServer) -> None:
    engine = FluxEngine(server.url, "wrong-token", 5.0, CircuitBreaker(5, 60))
    try:
        error = await render_error(engine)
        assert error.code is ErrorCode.PROVIDER_AUTH and error.opens_breaker
        assert not engine.available()
        assert len(server.requests) == 1

        blocked = await render_error(engine)
        assert blocked.code is ErrorCode.PROVIDER_UNAVAILABLE
        assert blocked.retryable
        assert blocked.retry_after is not None and 59 <= blocked.retry_after <= 60
        assert len(server.requests) == 1  # nothing reached the server
    finally:
        await engine.aclose()


async def test_hang_times_out(server: FakeFluxServer) -> None:
    server.script([Reply.hanging()])
    engine = FluxEngine(server.url, TOKEN, 0.5, CircuitBreaker(3, 60))
    try:
        started = time.monotonic()
        error = await render_error(engine)
        assert time.monotonic() - started < 2
        assert error.code is ErrorCode.PROVIDER_TIMEOUT
        assert error.retryable
        assert [retry_delay(error, n) for n in (1, 2, 3)] == [4, 8, 8]
    finally:
        await engine.aclose()


async def test_unreachable_server_is_a_retryable_timeout() -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = FluxEngine(f"http://127.0.0.1:{port}", TOKEN, 2.0, CircuitBreaker(3, 60))
    try:
        error = await render_error(engine)
        assert error.code is ErrorCode.PROVIDER_TIMEOUT and error.retryable
    finally:
        await engine.aclose()


# -- breaker and availability ------------------------------------------------------------------------


async def test_breaker_opens_after_failures_and_recovers_through_one_trial(server: FakeFluxServer) -> None:
    clock = FakeClock()
    engine = FluxEngine(server.url, TOKEN, 5.0, CircuitBreaker(2, 30, clock=clock))
    try:
        server.script([Reply.server_error(), Reply.server_error()])
        await render_error(engine)
        assert engine.available()
        await render_error(engine)
        assert not engine.available()

        clock.now = 10
        blocked = await render_error(engine)
        assert blocked.code is ErrorCode.PROVIDER_UNAVAILABLE and blocked.retry_after == 20
        assert len(server.requests) == 2

        clock.now = 30
        assert engine.available()
        assert engine.available()  # asking did not use up the half-open trial
        result = await engine.render(make_request(), DetachedContext())
        assert result.image.size == (64, 48)
        assert engine.breaker.state == "closed"
    finally:
        await engine.aclose()


async def test_without_a_token_the_engine_is_unavailable(server: FakeFluxServer) -> None:
    engine = FluxEngine(server.url, None, 5.0, CircuitBreaker(3, 60))
    try:
        assert not engine.available()
        error = await render_error(engine)
        assert error.code is ErrorCode.PROVIDER_AUTH
        assert server.requests == []
    finally:
        await engine.aclose()


async def test_from_settings(server: FakeFluxServer) -> None:
    settings = EngineSettings.model_validate(
        {"flux_base_url": server.url + "/", "flux_token": TOKEN, "breaker_failures": 2}
    )
    engine = FluxEngine.from_settings(settings)
    try:
        assert engine.available()
        assert engine.breaker.failures == 2
        assert (await engine.render(make_request(), DetachedContext())).image.size == (64, 48)
    finally:
        await engine.aclose()


async def test_given_client_is_left_open(server: FakeFluxServer) -> None:
    async with httpx2.AsyncClient() as client:
        engine = FluxEngine(server.url, TOKEN, 5.0, CircuitBreaker(3, 60), client=client)
        await engine.render(make_request(), DetachedContext())
        await engine.aclose()
        assert not client.is_closed


# -- retry schedule -----------------------------------------------------------------------------------


def test_retry_schedule_is_data_md() -> None:
    assert DEFAULT_RETRY_DELAYS == {
        ErrorCode.PROVIDER_RATE_LIMITED: (10, 20, 40),
        ErrorCode.PROVIDER_UNAVAILABLE: (4, 8),
        ErrorCode.PROVIDER_TIMEOUT: (4, 8),
    }


def test_retry_delay_hint_wins_and_attempts_clamp() -> None:
    hinted = EngineError(ErrorCode.PROVIDER_RATE_LIMITED, "x", retryable=True, retry_after=3)
    assert retry_delay(hinted, 3) == 3
    plain = EngineError(ErrorCode.PROVIDER_RATE_LIMITED, "x", retryable=True)
    assert retry_delay(plain, 0) == 10
    assert retry_delay(plain, 99) == 40
    other = EngineError(ErrorCode.INTERNAL, "x", retryable=True)
    assert retry_delay(other, 1) == 4


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("", None), ("7", 7.0), (" 2.5 ", 2.5), ("-3", 0.0), ("soon", None), ("nan", None)],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_parse_retry_after_clamps_far_dates() -> None:
    assert parse_retry_after("Wed, 21 Oct 2099 07:28:00 GMT") == 3600
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0


# -- prompt ---------------------------------------------------------------------------------------------


def test_negative_prompt_is_the_data_md_list() -> None:
    terms = NEGATIVE_PROMPT.split(", ")
    assert len(terms) == 27
    assert terms[0] == "blurry" and terms[-1] == "poorly drawn face"
    assert "fused fingers" in terms


def test_build_prompt_with_all_parts() -> None:
    prompt = build_prompt(
        "Standing tall, arms crossed.",
        {"gender": "female", "ageRange": "25-35", "ethnicity": "Southeast Asian", "style": "corporate"},
        "wearing a navy blazer",
        "modern office with large windows",
    )
    assert prompt == (
        "Standing tall, arms crossed, wearing a navy blazer, "
        "female person, 25-35, Southeast Asian, corporate style, "
        f"{QUALITY_TERMS}, background: modern office with large windows"
    )


def test_build_prompt_with_partial_avatar() -> None:
    prompt = build_prompt(
        "Sitting relaxed", {"ageRange": "40-50", "style": " casual ", "bodyType": "slim"}, None, None
    )
    assert prompt == f"Sitting relaxed, person, 40-50, slim build, casual style, {QUALITY_TERMS}"


def test_every_avatar_attribute_reaches_the_prompt() -> None:
    avatar = {
        "gender": "female",
        "ageRange": "20-30",
        "ethnicity": "Indonesian",
        "bodyType": "curvy",
        "hairStyle": "long wavy",
        "style": "modest fashion",
    }
    assert avatar_phrase(avatar) == (
        "female person, 20-30, Indonesian, curvy build, long wavy hair, modest fashion style"
    )


def test_build_prompt_without_avatar_or_extras() -> None:
    assert build_prompt("Walking", {}, "  ", "") == f"Walking, {QUALITY_TERMS}"
    assert avatar_phrase({"gender": ""}) == ""
    assert avatar_phrase({"gender": "male"}) == "male person"


# -- the fake server itself ----------------------------------------------------------------------


async def test_fake_server_refuses_malformed_bodies(server: FakeFluxServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        missing = await client.post("/models/x/y", json={"parameters": {}}, headers=headers)
        huge = await client.post(
            "/models/x/y", json={"inputs": "a", "parameters": {"width": 10**6}}, headers=headers
        )
    assert missing.status_code == huge.status_code == 400
    assert len(server.requests) == 2


def test_fake_image_is_deterministic() -> None:
    first = fake_image(40, 30, 1, "p").tobytes()
    assert first == fake_image(40, 30, 1, "p").tobytes()
    assert first != fake_image(40, 30, 2, "p").tobytes()
    assert first != fake_image(40, 30, 1, "q").tobytes()


async def test_fake_server_script_then_default(engine: FluxEngine, server: FakeFluxServer) -> None:
    server.script([Reply.server_error(), Reply.ok()])
    server.set_default(Reply.rate_limited(retry_after=1))
    assert server.pending == 2
    await render_error(engine)
    await engine.render(make_request(), DetachedContext())
    assert server.pending == 0
    assert (await render_error(engine)).code is ErrorCode.PROVIDER_RATE_LIMITED
