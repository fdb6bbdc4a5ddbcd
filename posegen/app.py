"""`create_app()`: the ASGI application and the services it holds for its lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from posegen import __version__
from posegen.admin.endpoints import router as admin_router
from posegen.auth import service as accounts
from posegen.auth.endpoints import router as auth_router
from posegen.auth.passwords import Passwords
from posegen.auth.tokens import TokenService
from posegen.config import Settings
from posegen.credits.endpoints import router as credits_router
from posegen.db import Database
from posegen.errors import install_error_handlers
from posegen.library.admin_endpoints import router as library_admin_router
from posegen.library.endpoints import router as library_router
from posegen.library.request_endpoints import router as requests_router
from posegen.observability.body_limit import BodyLimitMiddleware
from posegen.observability.health import router as health_router
from posegen.observability.request_context import RequestContextMiddleware
from posegen.storage.endpoints import router as files_router
from posegen.storage.factory import create_storage, url_signer

APP_PREFIX = "/api/apps/pose-generator"

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None, *, embed_worker: bool = True) -> FastAPI:
    """The posegen application for `settings` (read from the environment when omitted).

    `embed_worker` asks for the work loop to run inside this process (the
    embedded profile); API-only replicas pass False.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        app.state.settings = settings
        app.state.embed_worker = embed_worker
        app.state.db = Database.from_settings(settings)
        app.state.tokens = TokenService.from_settings(settings)
        app.state.passwords = Passwords()
        app.state.url_signer = url_signer(settings)
        app.state.storage = create_storage(settings)
        try:
            if settings.bootstrap.admin_email and settings.bootstrap.admin_password:
                async with app.state.db.session() as session:
                    await accounts.ensure_bootstrap_admin(
                        session,
                        app.state.passwords,
                        email=settings.bootstrap.admin_email,
                        password=settings.bootstrap.admin_password.get_secret_value(),
                    )
            log.info("started", version=__version__, database=app.state.db.dialect)
            yield
        finally:
            await app.state.db.dispose()
            log.info("stopped")

    app = FastAPI(
        title="posegen",
        version=__version__,
        description="Pose generation: pose library, credits, durable per-pose work, live progress.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.server.allowed_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After"],
    )
    app.add_middleware(BodyLimitMiddleware, limit_for=lambda _scope: settings.server.max_body_bytes)
    # Added last, so it is outermost: it sees every response and every unhandled error.
    app.add_middleware(RequestContextMiddleware)

    pose_generator = APIRouter(prefix=APP_PREFIX)
    pose_generator.include_router(health_router)
    pose_generator.include_router(files_router)
    pose_generator.include_router(library_router)
    pose_generator.include_router(requests_router)
    pose_generator.include_router(library_admin_router)
    app.include_router(auth_router)
    app.include_router(credits_router)
    app.include_router(admin_router)
    app.include_router(pose_generator)
    return app
