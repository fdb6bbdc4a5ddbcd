"""The `comfyui` engine: poses rendered by a pool of remote ComfyUI servers from their control map.

One render: upload the control map, remember the prompt on the pose (`RenderContext.remember`),
queue the workflow under our own prompt id on the least busy healthy server, follow it (events
and polling, `follow.py`) and fetch the first image of its first SaveImage node. An attempt that
finds a remembered prompt asks that server first, so a crash never pays for a pose twice.
No sleeping and no retries here, as in `flux`: errors tell the work queue what to do.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx2
import structlog
from PIL import Image
from websockets.asyncio.client import ClientConnection

from posegen.config import EngineSettings
from posegen.engines.base import (
    DEFAULT_RETRY_DELAYS,
    EngineError,
    ErrorCode,
    Quality,
    RemoteJob,
    RenderContext,
    RenderRequest,
    RenderResult,
    RetrySchedule,
    ServerHealth,
    control_image,
)
from posegen.engines.breaker import CircuitBreaker
from posegen.engines.comfyui.client import ComfyServer, Refused
from posegen.engines.comfyui.follow import failed, follow, settle
from posegen.engines.comfyui.result import decode, png, result_ref
from posegen.engines.comfyui.workflow import AVATAR_IMAGE, CONTROL_IMAGE, Workflow

log = structlog.get_logger(__name__)

REQUEST_TIMEOUT = 30.0  # one HTTP call; the whole render is bounded by `timeout_seconds`
WITHDRAW_TIMEOUT = 5.0  # a cancelled render's interrupt may not hold the cancel up longer


@dataclass
class _Submitted:
    """The prompt a render has on a server, for the cancel handler."""

    server: ComfyServer | None = None
    prompt_id: str | None = None


def client_id_for(prompt_id: str) -> str:
    """The WebSocket client id of a prompt. ComfyUI sends a prompt's events only to the client that
    queued it, so deriving the id from the prompt lets a later attempt hear a prompt it re-attaches to."""
    return f"posegen-{prompt_id}"


class ComfyUIEngine:
    """The `comfyui` engine over one or more ComfyUI servers, each with its own breaker."""

    name = "comfyui"
    description = "Stable Diffusion + ControlNet OpenPose on remote ComfyUI servers (follows the pose)."
    supports_control_image = True
    draws_pose_exactly = False
    draws_figure = True
    default_size = 512  # SD 1.5
    qualities: tuple[Quality, ...] = ("draft", "standard", "pro")
    background_modes = frozenset({"ai_generate"})  # no foreground mask comes back
    retry_delays: RetrySchedule = DEFAULT_RETRY_DELAYS

    def __init__(
        self,
        urls: Sequence[str],
        workflow: Workflow,
        *,
        steps: Mapping[Quality, int],
        cfg: float,
        timeout_seconds: float,
        breakers: Callable[[], CircuitBreaker],
        poll_seconds: float = 2.0,
    ) -> None:
        """`breakers` makes one breaker per server; `poll_seconds` is how often a quiet prompt is
        looked up over HTTP (events usually end the wait sooner)."""
        self.workflow = workflow
        self.steps = dict(steps)
        self.cfg = cfg
        self.timeout_seconds = timeout_seconds
        self.poll_seconds = poll_seconds
        self._client = httpx2.AsyncClient(
            timeout=httpx2.Timeout(min(REQUEST_TIMEOUT, timeout_seconds)), follow_redirects=False
        )
        self._breakers = breakers
        self._servers = {
            url.rstrip("/"): ComfyServer(url.rstrip("/"), self._client, breakers()) for url in urls
        }

    @classmethod
    def from_settings(cls, settings: EngineSettings) -> ComfyUIEngine:
        """An engine from `POSEGEN_ENGINES_COMFYUI_*`; `WorkflowError` when the workflow is unusable."""
        workflow = Workflow.load(
            settings.comfyui_workflow,
            checkpoint=settings.comfyui_checkpoint,
            controlnet=settings.comfyui_controlnet,
        )
        steps: dict[Quality, int] = {
            "draft": settings.comfyui_steps_draft,
            "standard": settings.comfyui_steps_standard,
            "pro": settings.comfyui_steps_pro,
        }
        return cls(
            settings.comfyui_urls,
            workflow,
            steps=steps,
            cfg=settings.comfyui_cfg,
            timeout_seconds=settings.comfyui_timeout_seconds,
            breakers=lambda: CircuitBreaker(settings.breaker_failures, settings.breaker_reset_seconds),
        )

    @property
    def takes_avatar_image(self) -> bool:
        return self.workflow.uses(AVATAR_IMAGE)

    def quality_notes(self) -> Mapping[Quality, str]:
        """The sampler steps of each quality (the workflow renders at the quality's size)."""
        return {quality: f"{steps} sampler steps" for quality, steps in self.steps.items()}

    def available(self) -> bool:
        """Configured, and at least one server's breaker would let a call through."""
        return any(server.breaker.would_allow() for server in self._servers.values())

    def servers(self) -> list[ServerHealth]:
        """Each configured server's health, in configuration order."""
        return [
            ServerHealth(s.url, s.breaker.state, s.breaker.would_allow(), s.queue_remaining, s.in_flight)
            for s in self._servers.values()
        ]

    async def render(self, request: RenderRequest, context: RenderContext) -> RenderResult:
        """Render `request` on a server (or re-attach to the prompt an earlier attempt queued)."""
        if not self._servers:
            raise EngineError(ErrorCode.PROVIDER_UNAVAILABLE, "no ComfyUI server configured", retryable=False)
        if request.quality not in self.steps:
            raise EngineError(ErrorCode.INTERNAL, f"unknown quality {request.quality!r}", retryable=False)
        if self.workflow.uses(AVATAR_IMAGE) and request.avatar_image is None:
            raise EngineError(
                ErrorCode.PROVIDER_BAD_REQUEST,
                f"the ComfyUI workflow takes {AVATAR_IMAGE} and this project has no avatar picture",
                retryable=False,
            )
        started = time.monotonic()
        submitted = _Submitted()
        try:
            async with asyncio.timeout(self.timeout_seconds) as deadline:
                image = await self._render(request, context, submitted)
        except TimeoutError as exc:
            if not deadline.expired():
                raise
            # The prompt stays queued: the next attempt re-attaches to it rather than paying again.
            error = EngineError(
                ErrorCode.PROVIDER_TIMEOUT,
                f"ComfyUI render took over {self.timeout_seconds:g} s",
                retryable=True,
            )
            self._log_failure(error, submitted, started)
            raise error from exc
        except asyncio.CancelledError:
            if submitted.server is not None and submitted.prompt_id is not None:
                await self._withdraw(submitted.server, submitted.prompt_id)
            raise
        except EngineError as error:
            self._log_failure(error, submitted, started)
            raise
        log.info(
            "comfyui_render",
            server=submitted.server.url if submitted.server else None,
            prompt_id=submitted.prompt_id,
            latency_ms=round((time.monotonic() - started) * 1000),
            width=request.width,
            height=request.height,
            quality=request.quality,
            seed=request.seed,
        )
        return RenderResult(image=image)

    async def _render(
        self, request: RenderRequest, context: RenderContext, submitted: _Submitted
    ) -> Image.Image:
        remote = context.remote
        if remote is not None:
            image = await self._reattach(remote, request, context, submitted)
            if image is not None:
                return image
        return await self._submit(request, context, submitted)

    async def _reattach(
        self, remote: RemoteJob, request: RenderRequest, context: RenderContext, submitted: _Submitted
    ) -> Image.Image | None:
        """The image of the prompt an earlier attempt queued, waiting for it if it still runs; None
        when it must be submitted anew (unknown to its server, failed, or the server is down)."""
        server = self._servers.get(remote.server.rstrip("/"))
        if server is None:  # configuration changed since: still ask it, it may hold paid-for work
            server = ComfyServer(remote.server.rstrip("/"), self._client, self._breakers())
        if not server.breaker.would_allow():
            log.warning("comfyui_reattach_server_down", server=server.url, prompt_id=remote.job_id)
            return None
        try:
            socket = await server.connect(client_id_for(remote.job_id))
        except Refused:
            self._record(server, ok=False)
            log.warning("comfyui_reattach_server_down", server=server.url, prompt_id=remote.job_id)
            return None
        try:
            try:
                state = await server.state(remote.job_id)
            except Refused:
                self._record(server, ok=False)
                return None
            if state is None or (isinstance(state, dict) and failed(state)):
                # An attempt that failed was already reported; the queue chose to run it again.
                log.info("comfyui_reattach_resubmits", server=server.url, prompt_id=remote.job_id)
                return None
            submitted.server, submitted.prompt_id = server, remote.job_id
            log.info("comfyui_reattach", server=server.url, prompt_id=remote.job_id, state=_state_name(state))
            server.in_flight += 1
            try:
                return await self._finish(server, remote.job_id, state, socket, request, context)
            finally:
                server.in_flight -= 1
        except EngineError as error:
            self._record(server, ok=error.code not in _SERVER_FAULTS)
            raise
        finally:
            await socket.close()

    async def _submit(
        self, request: RenderRequest, context: RenderContext, submitted: _Submitted
    ) -> Image.Image:
        """Queue the prompt on the least busy healthy server; a server that refuses the connection
        before it accepted the prompt hands it to the next one."""
        candidates = await self._ranked()
        if not candidates:
            waits = [server.breaker.retry_after() for server in self._servers.values()]
            raise EngineError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                "no ComfyUI server is reachable",
                retryable=True,
                retry_after=min(waits) if waits and min(waits) > 0 else None,
            )
        control = await asyncio.to_thread(png, control_image(request))
        avatar = None
        if self.workflow.uses(AVATAR_IMAGE) and request.avatar_image is not None:
            avatar = await asyncio.to_thread(png, request.avatar_image.convert("RGB"))
        refusals: list[str] = []
        for server in candidates:
            prompt_id = str(uuid.uuid4())
            server.in_flight += 1
            try:
                try:
                    files = {CONTROL_IMAGE: await server.upload(f"posegen-{prompt_id}-pose.png", control)}
                    if avatar is not None:
                        files[AVATAR_IMAGE] = await server.upload(f"posegen-{prompt_id}-avatar.png", avatar)
                    socket = await server.connect(client_id_for(prompt_id))
                except Refused as exc:
                    self._record(server, ok=False)
                    refusals.append(str(exc))
                    continue
                try:
                    prompt = self.workflow.build(self._values(request, prompt_id, files))
                    await context.remember(RemoteJob(server=server.url, job_id=prompt_id))
                    submitted.server, submitted.prompt_id = server, prompt_id
                    try:
                        await server.submit(prompt, prompt_id, client_id_for(prompt_id))
                    except Refused as exc:
                        submitted.server = submitted.prompt_id = None
                        self._record(server, ok=False)
                        refusals.append(str(exc))
                        continue
                    log.info("comfyui_queued", server=server.url, prompt_id=prompt_id)
                    return await self._finish(server, prompt_id, "pending", socket, request, context)
                finally:
                    await socket.close()
            except EngineError as error:
                self._record(server, ok=error.code not in _SERVER_FAULTS)
                raise
            finally:
                server.in_flight -= 1
        raise EngineError(ErrorCode.PROVIDER_UNAVAILABLE, "; ".join(refusals)[:500], retryable=True)

    async def _ranked(self) -> list[ComfyServer]:
        """Servers whose breaker allows a call, least busy first (queue length, then our own renders
        on it, then configuration order); one that cannot say how busy it is is left out."""
        servers = [server for server in self._servers.values() if server.breaker.allow()]

        async def load(server: ComfyServer) -> int | None:
            try:
                remaining = await server.probe()
            except (Refused, EngineError):
                self._record(server, ok=False)
                return None
            self._record(server, ok=True)
            return remaining

        loads = await asyncio.gather(*(load(server) for server in servers))
        ranked = sorted(
            (remaining, server.in_flight, index)
            for index, (server, remaining) in enumerate(zip(servers, loads, strict=True))
            if remaining is not None
        )
        return [servers[index] for _, _, index in ranked]

    async def _finish(
        self,
        server: ComfyServer,
        prompt_id: str,
        state: str | dict[str, Any],
        socket: ClientConnection | None,
        request: RenderRequest,
        context: RenderContext,
    ) -> Image.Image:
        """Wait for the prompt (unless `state` is already its history entry) and fetch its image."""
        try:
            entry = (
                settle(state)
                if isinstance(state, dict)
                else await follow(server, prompt_id, socket, context, self.poll_seconds)
            )
            ref = result_ref(entry, self.workflow.nodes)
            content = await server.view(ref)
        except Refused as exc:
            raise EngineError(ErrorCode.PROVIDER_UNAVAILABLE, str(exc), retryable=True) from exc
        image = await asyncio.to_thread(decode, content, request.width, request.height)
        self._record(server, ok=True)
        return image

    def _values(self, request: RenderRequest, prompt_id: str, files: Mapping[str, str]) -> dict[str, Any]:
        return {
            "$positive": request.prompt,
            "$negative": request.negative_prompt,
            "$seed": request.seed,
            "$width": request.width,
            "$height": request.height,
            "$steps": self.steps[request.quality],
            "$cfg": self.cfg,
            "$filename_prefix": f"posegen/{prompt_id}",
            **files,
        }

    async def _withdraw(self, server: ComfyServer, prompt_id: str) -> None:
        """Take a cancelled render's prompt off its server, within `WITHDRAW_TIMEOUT`."""
        try:
            async with asyncio.timeout(WITHDRAW_TIMEOUT):
                outcome = await server.withdraw(prompt_id)
        except (TimeoutError, Refused, EngineError) as exc:
            log.warning("comfyui_withdraw_failed", server=server.url, prompt_id=prompt_id, error=str(exc))
            return
        log.info("comfyui_render_cancelled", server=server.url, prompt_id=prompt_id, outcome=outcome)

    @staticmethod
    def _record(server: ComfyServer, *, ok: bool) -> None:
        if ok:
            server.breaker.record_success()
        else:
            server.breaker.record_failure()

    @staticmethod
    def _log_failure(error: EngineError, submitted: _Submitted, started: float) -> None:
        log.warning(
            "comfyui_render_failed",
            server=submitted.server.url if submitted.server else None,
            prompt_id=submitted.prompt_id,
            code=str(error.code),
            retryable=error.retryable,
            error=error.message,
            latency_ms=round((time.monotonic() - started) * 1000),
        )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()


# Errors that say the server is in trouble (they count against its breaker); others are judgements
# on the prompt by a healthy server.
_SERVER_FAULTS = frozenset({ErrorCode.PROVIDER_UNAVAILABLE, ErrorCode.PROVIDER_TIMEOUT})


def _state_name(state: str | dict[str, Any]) -> str:
    return "finished" if isinstance(state, dict) else state
