"""FLUX text-to-image over the Hugging Face Inference protocol.

One POST per render, no sleeping and no retries here: a failure becomes an
`EngineError` whose `retryable`/`retry_after` tell the work queue what to do,
and `retry_delays` (DATA.md's back-off schedule, `engines.base`) says when the queue tries again.
"""

from __future__ import annotations

import asyncio
import email.utils
import io
import json
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx2
import structlog
from PIL import Image, ImageOps

from posegen.config import EngineSettings
from posegen.engines.base import (
    DEFAULT_RETRY_DELAYS,
    EngineError,
    ErrorCode,
    Quality,
    RenderContext,
    RenderRequest,
    RenderResult,
    RetrySchedule,
)
from posegen.engines.breaker import CircuitBreaker

log = structlog.get_logger(__name__)

SCHNELL = "black-forest-labs/FLUX.1-schnell"
DEV = "black-forest-labs/FLUX.1-dev"


@dataclass(frozen=True)
class QualityProfile:
    """Provider parameters of a quality (DATA.md "Prices"); the size is the quality's
    (`QUALITY_SIZES`), as for every engine."""

    model: str
    steps: int
    guidance: float


QUALITY_PROFILES: dict[Quality, QualityProfile] = {
    "draft": QualityProfile(SCHNELL, 4, 0.0),
    "standard": QualityProfile(DEV, 28, 3.5),
    "pro": QualityProfile(DEV, 35, 3.5),
}

# A 503 shares PROVIDER_UNAVAILABLE with other 5xx but has its own delay (30 s), so the
# engine puts it into `retry_after` when the provider gave no hint of its own.
UNAVAILABLE_503_DELAY = 30.0
MAX_RETRY_AFTER = 3600.0  # a provider hint beyond an hour is clamped: the pose must not wait for ever

MAX_IMAGE_BYTES = 64 * 1024 * 1024  # far above a 2048² PNG; stops a runaway body filling memory
MAX_ERROR_BYTES = 64 * 1024
_CONTENT_REJECTED = re.compile(
    r"nsfw|not safe for work|unsafe content|safety (checker|filter|system)|moderation"
    r"|content (was |has been |is )?(rejected|blocked|flagged|filtered)",
    re.IGNORECASE,
)
# The provider is up and judged the request itself: close the breaker (bad prompts must not open it).
_HEALTHY_REFUSALS = frozenset({400, 422})


def parse_retry_after(value: str | None) -> float | None:
    """A `Retry-After` header (delta seconds or HTTP date) as seconds from now, or None."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value.strip())
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(0.0, seconds), MAX_RETRY_AFTER) if math.isfinite(seconds) else None


def _error_text(body: bytes) -> tuple[str, dict[str, Any]]:
    """The provider's error message (HF: `{"error": str | [str]}`) and the JSON object, if any."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")[:300], {}
    if not isinstance(data, dict):
        return str(data)[:300], {}
    error = data.get("error", data)
    text = "; ".join(map(str, error)) if isinstance(error, list) else str(error)
    return text[:300], data


def _error_for(status: int, headers: httpx2.Headers, body: bytes) -> EngineError:
    """Map a non-2xx answer to an `EngineError` (DATA.md error-code table)."""
    text, data = _error_text(body)
    message = f"provider answered {status}: {text}"
    hinted = parse_retry_after(headers.get("retry-after"))
    if status == 429:
        return EngineError(ErrorCode.PROVIDER_RATE_LIMITED, message, retryable=True, retry_after=hinted)
    if status == 503:
        estimated = data.get("estimated_time")
        if hinted is None and isinstance(estimated, int | float) and math.isfinite(estimated):
            hinted = min(max(0.0, float(estimated)), MAX_RETRY_AFTER)
        delay = UNAVAILABLE_503_DELAY if hinted is None else hinted
        return EngineError(ErrorCode.PROVIDER_UNAVAILABLE, message, retryable=True, retry_after=delay)
    if status in (401, 403):
        return EngineError(ErrorCode.PROVIDER_AUTH, message, retryable=False, opens_breaker=True)
    if status in (400, 422) and _CONTENT_REJECTED.search(text):
        return EngineError(ErrorCode.CONTENT_REJECTED, message, retryable=False)
    if 400 <= status < 500 and status != 408:
        return EngineError(ErrorCode.PROVIDER_BAD_REQUEST, message, retryable=False)
    # 5xx, 408 and anything unexpected (a 3xx: redirects are not followed) are the provider's problem.
    return EngineError(ErrorCode.PROVIDER_UNAVAILABLE, message, retryable=True, retry_after=hinted)


def _decode(content: bytes, width: int, height: int) -> Image.Image:
    """Decode the provider's image to RGB at width × height (cover-crop if it sent another size).

    Anything that is not a decodable image is INTERNAL and permanent: the provider said 200,
    so retrying the same request has no reason to give something else.
    """
    try:
        with Image.open(io.BytesIO(content)) as opened:
            image = opened.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise EngineError(
            ErrorCode.INTERNAL, f"provider sent no decodable image: {exc}", retryable=False
        ) from exc
    if image.size != (width, height):
        # fit = scale + centre crop, so an aspect mismatch does not stretch the person.
        image = ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)
    return image


class FluxEngine:
    """The `flux` engine: FLUX.1 via any server speaking the Hugging Face Inference protocol."""

    name = "flux"
    description = "FLUX.1 via the Hugging Face Inference API (schnell for draft, dev otherwise)."
    supports_control_image = False  # the HF text-to-image task takes no control image
    draws_pose_exactly = False
    draws_figure = True
    default_size = 1024
    qualities: tuple[Quality, ...] = ("draft", "standard", "pro")
    # Solid colour and upload backgrounds need a foreground mask this engine cannot give offline.
    background_modes = frozenset({"ai_generate"})
    retry_delays: RetrySchedule = DEFAULT_RETRY_DELAYS
    takes_avatar_image = False

    def __init__(
        self,
        base_url: str,
        token: str | None,
        timeout_seconds: float,
        breaker: CircuitBreaker,
        *,
        client: httpx2.AsyncClient | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        """`client` is used as given and left open by `aclose()` (its owner closes it);
        otherwise the engine creates one (over `transport`, if given) and closes it."""
        self.base_url = base_url.rstrip("/")
        self._token = token or None
        self.timeout_seconds = timeout_seconds
        self.breaker = breaker
        self._owns_client = client is None
        self._client = client or httpx2.AsyncClient(
            timeout=httpx2.Timeout(timeout_seconds), transport=transport, follow_redirects=False
        )

    @classmethod
    def from_settings(
        cls, settings: EngineSettings, *, transport: httpx2.AsyncBaseTransport | None = None
    ) -> FluxEngine:
        """An engine configured from `POSEGEN_ENGINES_*`, with its own breaker."""
        token = settings.flux_token.get_secret_value() if settings.flux_token else None
        breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_reset_seconds)
        return cls(settings.flux_base_url, token, settings.flux_timeout_seconds, breaker, transport=transport)

    def quality_notes(self) -> Mapping[Quality, str]:
        """The model, steps and guidance of each quality."""
        return {
            quality: f"{profile.model.rsplit('/', 1)[-1]}, {profile.steps} steps, "
            f"guidance {profile.guidance:g}"
            for quality, profile in QUALITY_PROFILES.items()
        }

    def available(self) -> bool:
        """Configured with a token and the breaker would let a call through (does not take the trial)."""
        return self._token is not None and self.breaker.would_allow()

    async def render(self, request: RenderRequest, context: RenderContext) -> RenderResult:
        """POST one text-to-image request and return the decoded image; raise `EngineError`."""
        if self._token is None:
            raise EngineError(ErrorCode.PROVIDER_AUTH, "no FLUX token configured", retryable=False)
        profile = QUALITY_PROFILES.get(request.quality)
        if profile is None:
            raise EngineError(ErrorCode.INTERNAL, f"unknown quality {request.quality!r}", retryable=False)
        if not self.breaker.allow():  # open: refuse without a request (retry once it may close)
            wait = self.breaker.retry_after()
            raise EngineError(
                ErrorCode.PROVIDER_UNAVAILABLE, "breaker open", retryable=True, retry_after=wait
            )
        started = time.monotonic()
        status: int | None = None
        try:
            response, content = await self._exchange(profile, request)
            status = response.status_code
            if not response.is_success:
                raise _error_for(status, response.headers, content)
            # Decoding a 1024² PNG takes tens of milliseconds: keep it off the event loop.
            image = await asyncio.to_thread(_decode, content, request.width, request.height)
        except EngineError as error:
            if status in _HEALTHY_REFUSALS:
                self.breaker.record_success()
            else:
                self.breaker.record_failure(opens=error.opens_breaker)
            log.warning(
                "flux_render_failed",
                model=profile.model,
                status=status,
                code=str(error.code),
                retryable=error.retryable,
                retry_after=error.retry_after,
                latency_ms=round((time.monotonic() - started) * 1000),
                breaker=self.breaker.state,
            )
            raise
        self.breaker.record_success()
        log.info(
            "flux_render",
            model=profile.model,
            status=status,
            latency_ms=round((time.monotonic() - started) * 1000),
            width=request.width,
            height=request.height,
            quality=request.quality,
            seed=request.seed,
        )
        return RenderResult(image=image)

    async def _exchange(
        self, profile: QualityProfile, request: RenderRequest
    ) -> tuple[httpx2.Response, bytes]:
        """POST the request; transport failures become PROVIDER_TIMEOUT, any HTTP answer is returned."""
        payload = {
            "inputs": request.prompt,
            "parameters": {
                "negative_prompt": request.negative_prompt,
                "width": request.width,
                "height": request.height,
                "num_inference_steps": profile.steps,
                "guidance_scale": profile.guidance,
                "seed": request.seed,
            },
        }
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "image/png"}
        url = f"{self.base_url}/models/{profile.model}"
        try:
            # httpx2 times each phase (connect, each read); this bounds the whole exchange too,
            # so a provider trickling bytes cannot hold a worker slot past the timeout.
            async with asyncio.timeout(self.timeout_seconds):
                async with self._client.stream("POST", url, json=payload, headers=headers) as response:
                    limit = MAX_IMAGE_BYTES if response.is_success else MAX_ERROR_BYTES
                    content = await self._read(response, limit)
        except (TimeoutError, httpx2.HTTPError) as exc:
            # Timeouts, refused or reset connections, protocol errors: all transient.
            timed_out = isinstance(exc, TimeoutError | httpx2.TimeoutException)
            what = f"no answer within {self.timeout_seconds:g} s" if timed_out else type(exc).__name__
            raise EngineError(ErrorCode.PROVIDER_TIMEOUT, f"provider: {what}", retryable=True) from exc
        return response, content

    @staticmethod
    async def _read(response: httpx2.Response, limit: int) -> bytes:
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                if response.is_success:
                    raise EngineError(
                        ErrorCode.INTERNAL, f"provider image over {limit} bytes", retryable=False
                    )
                break  # an error text cut short still says enough
        return bytes(body)

    async def aclose(self) -> None:
        """Close the HTTP client if this engine created it."""
        if self._owns_client:
            await self._client.aclose()
