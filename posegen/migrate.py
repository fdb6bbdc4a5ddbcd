"""Alembic migrations driven from posegen (CLI, tests) on an async engine.

The migration scripts ship inside the package (`posegen/migrations`), and the
Alembic configuration is built here rather than read from an `alembic.ini`, so
an installed wheel migrates from any working directory. Developers reach the
full Alembic command line through `posegen alembic …` (see `alembic_main`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import CommandLine, Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"
# Date-slug names sort in the order they were written (tests/test_migrations.py checks the shape).
FILE_TEMPLATE = "%(year)d_%(month).2d_%(day).2d_%(rev)s_%(slug)s"


def _escaped(value: str) -> str:
    # Config options go through ConfigParser interpolation, where a bare % starts a reference.
    return value.replace("%", "%%")


def alembic_config(connection: Connection | None = None) -> Config:
    """posegen's Alembic configuration; env.py runs on `connection` when one is given,
    otherwise on the database of posegen's settings (POSEGEN_DATABASE_URL)."""
    config = Config()
    config.set_main_option("script_location", _escaped(str(SCRIPT_LOCATION)))
    config.set_main_option("file_template", _escaped(FILE_TEMPLATE))
    config.set_main_option("timezone", "UTC")
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def alembic_main(argv: Sequence[str], prog: str = "posegen alembic") -> None:
    """Run an Alembic command line (`revision --autogenerate -m …`, `history`, `downgrade -1`, …)
    on posegen's configuration instead of an ini file."""
    cli = CommandLine(prog=prog)
    options = cli.parser.parse_args(list(argv))
    if not hasattr(options, "cmd"):
        cli.parser.error("too few arguments")
    config = alembic_config()
    config.cmd_opts = options
    cli.run_cmd(config, options)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate the database of `engine` up to `revision`."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Migrate the database of `engine` down to `revision` (`base` empties it)."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


async def current(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
