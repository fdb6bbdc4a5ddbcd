"""`create_app()`: the ASGI application and the services it holds for its lifetime."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import APIRouter, Depends, FastAPI
from fastapi_offline import FastAPIOffline
from starlette.types import Scope

from posegen import __version__
from posegen.admin.endpoints import router as admin_router
from posegen.admin.metrics_endpoints import router as metrics_router
from posegen.auth import service as accounts
from posegen.auth.endpoints import router as auth_router
from posegen.config import Settings
from posegen.credits.endpoints import router as credits_router
from posegen.errors import install_error_handlers
from posegen.generation.endpoints import router as generation_router
from posegen.library.admin_endpoints import router as library_admin_router
from posegen.library.custom_endpoints import router as custom_poses_router
from posegen.library.endpoints import router as library_router
from posegen.library.request_endpoints import router as requests_router
from posegen.observability import prometheus
from posegen.observability.body_limit import BodyLimitMiddleware
from posegen.observability.health import router as health_router
from posegen.observability.http_policy import EnvelopeCORSMiddleware, SecurityHeadersMiddleware
from posegen.observability.request_context import RequestContextMiddleware
from posegen.observability.text_guard import refuse_control_characters
from posegen.openapi_document import install_openapi
from posegen.projects.endpoints import router as projects_router
from posegen.projects.endpoints import uploads_router
from posegen.ratelimit.http import RateLimitHeadersMiddleware
from posegen.realtime.sse import router as sse_router
from posegen.realtime.websocket import router as ws_router
from posegen.services import Services, build_services
from posegen.storage.endpoints import router as files_router
from posegen.web.assets import router as assets_router
from posegen.web.pages import install_pages
from posegen.work.admin import router as work_admin_router

APP_PREFIX = "/api/apps/pose-generator"
# Where the API console's scripts and styles are served from (same origin as /docs).
DOCS_ASSETS = "/docs-assets"
# Beyond the work grace (`work.shutdown_grace_seconds`), what the embedded worker may take to
# cancel what is left and release its leases before the process stops waiting for it.
RELEASE_ALLOWANCE_SECONDS = 30.0

log = structlog.get_logger(__name__)


# Multipart envelopes add headers and boundaries around the file itself.
MULTIPART_ALLOWANCE = 64 * 1024
UPLOAD_PATHS = (f"{APP_PREFIX}/uploads", f"{APP_PREFIX}/projects/")


def body_limit_for(settings: Settings) -> Callable[[Scope], int]:
    """Upload routes take files up to the upload limit; every other body the JSON limit."""

    def limit(scope: Scope) -> int:
        path = str(scope.get("path", ""))
        if path.startswith(UPLOAD_PATHS[0]) or (
            path.startswith(UPLOAD_PATHS[1]) and path.endswith("/avatar")
        ):
            return settings.server.max_upload_bytes + MULTIPART_ALLOWANCE
        return settings.server.max_body_bytes

    return limit


async def close_sockets(app: FastAPI, grace_seconds: float = 2.0) -> None:
    """Tell every WebSocket the server is going away (1001) and give them a moment to close."""
    services: Services = app.state.services
    services.going_away.set()
    for listener in tuple(services.sockets):
        listener.signal("shutdown")
    deadline = asyncio.get_running_loop().time() + grace_seconds
    while services.sockets and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110 - sockets close on their own tasks
        await asyncio.sleep(0.02)


def begin_shutdown(app: FastAPI) -> None:
    """Tell the embedded worker to stop claiming now (safe from a signal handler): it drains while
    the server drains its connections, instead of after."""
    stop: asyncio.Event | None = getattr(app.state, "stop_work", None)
    loop: asyncio.AbstractEventLoop | None = getattr(app.state, "loop", None)
    if stop is not None and loop is not None and not loop.is_closed():
        loop.call_soon_threadsafe(stop.set)


async def _ensure_bootstrap_admin(services: Services) -> None:
    bootstrap = services.settings.bootstrap
    if bootstrap.admin_email and bootstrap.admin_password:
        async with services.db.session() as session:
            await accounts.ensure_bootstrap_admin(
                session,
                services.passwords,
                email=bootstrap.admin_email,
                password=bootstrap.admin_password.get_secret_value(),
            )


async def _stop_worker(task: asyncio.Task[None], settings: Settings) -> None:
    # The worker bounds its own drain by the grace; the allowance covers its release.
    limit = settings.work.shutdown_grace_seconds + RELEASE_ALLOWANCE_SECONDS
    try:
        await asyncio.wait_for(task, timeout=limit)
    except TimeoutError:
        log.warning("worker_stop_timeout")


def create_app(settings: Settings | None = None, *, embed_worker: bool = True) -> FastAPI:
    """The posegen application for `settings` (read from the environment when omitted).

    `embed_worker` asks for the work loop to run inside this process (the
    embedded profile); API-only replicas pass False.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with build_services(settings, worker=embed_worker) as services:
            # The one thing kept on the application: handlers reach it through posegen.dependencies.
            app.state.services = services
            stop = asyncio.Event()
            # For `begin_shutdown`, called from a signal handler outside the loop.
            app.state.stop_work = stop
            app.state.loop = asyncio.get_running_loop()
            worker_task: asyncio.Task[None] | None = None
            monitor_task: asyncio.Task[None] | None = None
            try:
                await _ensure_bootstrap_admin(services)
                if services.worker is not None:
                    worker_task = asyncio.create_task(services.worker.run(stop))
                monitor_task = asyncio.create_task(services.monitor.run(services.db, stop))
                log.info(
                    "started",
                    version=__version__,
                    database=services.db.dialect,
                    worker=worker_task is not None,
                )
                yield
            finally:
                await close_sockets(app)
                stop.set()
                if monitor_task is not None:
                    await monitor_task
                if worker_task is not None:
                    await _stop_worker(worker_task, settings)
                    # The leases it released are claimable by workers elsewhere.
                    services.wake()
        log.info("stopped")

    options: dict[str, Any] = {
        "title": "posegen",
        "version": __version__,
        "description": "Pose generation: pose library, credits, durable per-pose work, live progress.",
        "lifespan": lifespan,
        # Every route, present and future: control characters in any text a client sends are a 400.
        "dependencies": [Depends(refuse_control_characters)],
        # A token entered once in /docs stays across reloads of the page (in the browser only).
        "swagger_ui_parameters": {"persistAuthorization": True},
    }
    # /docs and /redoc load Swagger UI and ReDoc from the installed fastapi-offline package (served
    # under DOCS_ASSETS), never from a CDN; with public docs off, none of the three routes exists.
    app = (
        FastAPIOffline(static_url=DOCS_ASSETS, **options)
        if settings.docs_public
        else FastAPI(docs_url=None, redoc_url=None, openapi_url=None, **options)
    )
    install_error_handlers(app)
    app.add_middleware(
        EnvelopeCORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
        expose_headers=[
            "X-Request-ID",
            "Retry-After",
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
        ],
    )
    app.add_middleware(RateLimitHeadersMiddleware)
    app.add_middleware(BodyLimitMiddleware, limit_for=body_limit_for(settings))
    # Added last, so they are outermost: they see every response and every unhandled error.
    app.add_middleware(RequestContextMiddleware, observe=prometheus.PROCESS.observe_request)
    app.add_middleware(SecurityHeadersMiddleware)

    pose_generator = APIRouter(prefix=APP_PREFIX)
    pose_generator.include_router(health_router)
    pose_generator.include_router(files_router)
    pose_generator.include_router(library_router)
    pose_generator.include_router(custom_poses_router)
    pose_generator.include_router(requests_router)
    pose_generator.include_router(library_admin_router)
    pose_generator.include_router(projects_router)
    pose_generator.include_router(uploads_router)
    pose_generator.include_router(generation_router)
    pose_generator.include_router(sse_router)
    pose_generator.include_router(ws_router)
    pose_generator.include_router(work_admin_router)
    pose_generator.include_router(metrics_router)
    app.include_router(auth_router)
    app.include_router(credits_router)
    app.include_router(admin_router)
    app.include_router(pose_generator)
    # Prometheus, outside the app prefix and behind its own bearer token.
    app.include_router(prometheus.router)
    # The web app: pages at `/…` and their assets under `/static/<version>/`.
    app.include_router(assets_router)
    install_pages(app)
    install_openapi(app)
    return app
