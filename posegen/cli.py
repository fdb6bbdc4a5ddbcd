"""`posegen` command line: serve, migrate, seed, users, credits, library, models, doctor."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy import select

from posegen import migrate as migrations
from posegen.auth import repository as users_repo
from posegen.auth import service as accounts
from posegen.auth.models import Role
from posegen.config import Settings
from posegen.credits import ledger
from posegen.credits.models import EntryKind
from posegen.doctor import examine, report
from posegen.engines.diffusers import ModelSpec, pull_models
from posegen.errors import NotFound, PosegenError
from posegen.observability.logging import configure_logging
from posegen.services import Services, build_services

app = typer.Typer(help="posegen: pose generation service.", no_args_is_help=True)
users_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")
credits_app = typer.Typer(help="Move credits.", no_args_is_help=True)
app.add_typer(credits_app, name="credits")
library_app = typer.Typer(help="The pose library.", no_args_is_help=True)
app.add_typer(library_app, name="library")
models_app = typer.Typer(help="Weights of the local `diffusers` engine.", no_args_is_help=True)
app.add_typer(models_app, name="models")

T = TypeVar("T")


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


def _with_services(
    settings: Settings, work: Callable[[Services], Awaitable[T]], *, worker: bool = False
) -> T:
    """Run `work` with the process's services (`posegen.services`), built and closed around it;
    a `PosegenError` becomes `error: …` and exit status 1."""

    async def run() -> T:
        # Commands publish the events they write; they serve no sockets.
        async with build_services(settings, worker=worker, deliver_events=False) as services:
            return await work(services)

    try:
        return asyncio.run(run())
    except PosegenError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default from settings).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default from settings).")] = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Do not run the embedded work loop in this process.")
    ] = False,
) -> None:
    """Serve the HTTP API."""
    from posegen import serving
    from posegen.app import create_app

    settings = _settings()
    # The options become the settings, so everything derived from the address (the default
    # origin allow-list) follows the address actually bound.
    bound = {"host": host or settings.server.host, "port": port or settings.server.port}
    settings = settings.model_copy(update={"server": settings.server.model_copy(update=bound)})
    application = create_app(settings, embed_worker=not no_worker)
    serving.serve(application, settings.server.host, settings.server.port)


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(min=1, max=256, help="Poses rendered at once.")] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            help="Serve this worker's Prometheus /metrics on this port (POSEGEN_METRICS_TOKEN).",
        ),
    ] = None,
) -> None:
    """Run a standalone worker: claim and render poses until SIGTERM or SIGINT, then let running poses
    finish within the shutdown grace, hand the rest back to the queue and exit 0."""
    import signal

    from posegen.observability.prometheus import worker_listener

    settings = _settings()
    if concurrency is not None:
        settings = settings.model_copy(
            update={"work": settings.work.model_copy(update={"concurrency": concurrency})}
        )

    async def run(services: Services) -> None:
        assert services.worker is not None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        async with worker_listener(
            settings, services.db, services.queue_gauges, metrics_port or settings.metrics.worker_port
        ):
            await services.worker.run(stop)
        # The leases it released are claimable by workers elsewhere.
        services.wake()

    _with_services(settings, run, worker=True)


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Bring the database schema up to `revision` (default: the newest)."""
    settings = _settings()
    _with_services(settings, lambda services: migrations.upgrade(services.db.engine, revision))
    typer.echo(f"database at {revision}")


@app.command(
    "alembic",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
def alembic_command(ctx: typer.Context) -> None:
    """Alembic's own command line on posegen's migrations (developers: `revision --autogenerate -m …`)."""
    _settings()
    migrations.alembic_main(ctx.args)


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="Email of the new account.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "posegen user",
    admin: Annotated[bool, typer.Option("--admin", help="Give the account the admin role.")] = False,
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="Password (10–128 characters)."
        ),
    ] = "",
) -> None:
    """Create an account."""
    if not 10 <= len(password) <= 128:
        typer.echo("error: the password must be 10–128 characters", err=True)
        raise typer.Exit(2)
    settings = _settings()
    role = Role.ADMIN if admin else Role.USER

    async def work(services: Services) -> None:
        async with services.db.session() as session:
            await accounts.create_user(
                session, services.passwords, email=email, password=password, name=name, role=role
            )

    _with_services(settings, work)
    typer.echo(f"created {email.lower()} ({role.value})")


@users_app.command("set-role")
def users_set_role(
    email: Annotated[str, typer.Argument(help="Email of the account.")],
    role: Annotated[Role, typer.Argument(help="New role.")],
) -> None:
    """Change the role of an account; it takes effect on its next request."""
    settings = _settings()

    async def work(services: Services) -> None:
        async with services.db.session() as session:
            await accounts.set_role(session, email, role)

    _with_services(settings, work)
    typer.echo(f"{email.lower()} is now {role.value}")


@users_app.command("demo")
def users_demo(
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Give it a new password (revokes its tokens).")
    ] = False,
) -> None:
    """Create the demo account (1,000 welcome credits, once) and print its credentials. The password
    is kept in `<data dir>/demo-password` and stays the same on every run, so tokens survive
    restarts; `--rotate` sets a new one and revokes every token issued before."""
    from posegen.demo import DemoPassword, ensure_demo

    settings = _settings()
    account = _with_services(
        settings, lambda services: ensure_demo(services.db, settings.data_dir, rotate=rotate)
    )
    note = {
        DemoPassword.CREATED: "new account",
        DemoPassword.KEPT: "unchanged; tokens issued before stay valid",
        DemoPassword.ROTATED: "new password; tokens issued before are revoked",
    }[account.state]
    typer.echo(f"demo account: {account.email}  password: {account.password}  ({note})")


@credits_app.command("grant")
def credits_grant(
    email: Annotated[str, typer.Argument(help="Email of the account.")],
    amount: Annotated[int, typer.Argument(min=1, max=ledger.MAX_AMOUNT, help="Credits to add.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the ledger and the audit log).")],
) -> None:
    """Add credits to an account."""
    settings = _settings()
    reason = reason.strip()
    if not 1 <= len(reason) <= 200:
        typer.echo("error: the reason must be 1–200 characters", err=True)
        raise typer.Exit(2)

    async def work(services: Services) -> int:
        async with services.db.session() as session:
            user = await users_repo.get_by_email(session, email)
            if user is None:
                raise NotFound(f"No account for {email}")
            entry = await ledger.move(
                session, user_id=user.id, amount=amount, kind=EntryKind.ADMIN_GRANT, reason=reason
            )
            return entry.balance_after

    balance = _with_services(settings, work)
    typer.echo(f"granted {amount} to {email.lower()}; balance {balance}")


@app.command()
def seed() -> None:
    """Upsert the curated categories and poses and render their images (unchanged poses are skipped)."""
    from posegen.library.seed import seed_library

    settings = _settings()
    report = _with_services(settings, lambda services: seed_library(services.db, services.storage))
    typer.echo(report.summary())


@library_app.command("contact-sheet")
def library_contact_sheet(
    out: Annotated[Path, typer.Argument(help="PNG file to write.", dir_okay=False)],
    columns: Annotated[int, typer.Option(min=1, max=40, help="Poses per row.")] = 12,
    cell: Annotated[int, typer.Option(min=64, max=512, help="Size of each render in pixels.")] = 160,
) -> None:
    """Write one image with the mannequin render and name of every public pose in the database."""
    from posegen.library.contact_sheet import SheetEntry, contact_sheet, save_compressed
    from posegen.library.models import Pose, PoseCategory

    settings = _settings()

    async def load(services: Services) -> list[SheetEntry]:
        async with services.db.session(write=False) as session:
            rows = await session.execute(
                select(Pose, PoseCategory.slug)
                .join(PoseCategory, PoseCategory.id == Pose.category_id)
                .where(Pose.is_public)
                .order_by(Pose.category_id, Pose.name)
            )
            return [
                SheetEntry(
                    pose.name,
                    [(float(x), float(y), float(c)) for x, y, c in pose.keypoints["points"]],
                    pose.keypoints.get("depth") or [0.0] * 18,
                    slug,
                )
                for pose, slug in rows.tuples()
            ]

    entries = _with_services(settings, load)
    if not entries:
        typer.echo("error: the library is empty; run `posegen seed` first", err=True)
        raise typer.Exit(1)
    save_compressed(contact_sheet(entries, columns=columns, cell=cell), str(out))
    typer.echo(f"wrote {len(entries)} poses to {out}")


@library_app.command("gallery")
def library_gallery(
    out: Annotated[Path, typer.Argument(help="PNG file to write.", dir_okay=False)],
    cell: Annotated[int, typer.Option(min=128, max=768, help="Size of each render in pixels.")] = 320,
) -> None:
    """Write the avatar gallery: three library poses for four different avatars, then four variations
    of one pose, as the mannequin engine renders them (no database needed)."""
    from posegen.generation.gallery import gallery
    from posegen.library.contact_sheet import save_compressed

    save_compressed(gallery(cell), str(out), colors=256)  # many skin and clothing colours
    typer.echo(f"wrote the gallery to {out}")


@models_app.command("pull")
def models_pull() -> None:
    """Fetch the `diffusers` engine's weights (POSEGEN_ENGINES_DIFFUSERS_*) into the Hugging Face cache
    (HF_HOME), so workers load them without a network; a model set as a local directory is used where
    it is. Run once per machine or image, before starting a worker with the engine enabled."""
    settings = _settings()
    try:
        outcomes = pull_models(ModelSpec.from_settings(settings.engines))
    except PosegenError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    for outcome in outcomes:
        state = "pulled" if outcome.pulled else "present (local directory, nothing to pull)"
        typer.echo(f"{outcome.role}: {outcome.model}: {state} at {outcome.path}")


@app.command()
def doctor() -> None:
    """Check the database's invariants; exit 1 with a report when one fails."""
    settings = _settings()
    findings = _with_services(settings, lambda services: examine(services.db))
    typer.echo(report(findings))
    if not all(finding.ok for finding in findings):
        raise typer.Exit(1)


def main() -> None:
    app()
