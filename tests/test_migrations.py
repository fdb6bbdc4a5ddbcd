"""Migrations run up, down and up again on both databases, and match the models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from posegen import migrate
from posegen.db import create_engine
from posegen.models import metadata
from tests.fixtures.databases import fresh_database_url


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def _drift(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_upgrade_downgrade_upgrade_without_drift(backend: str, tmp_path: Path) -> None:
    async with fresh_database_url(backend, tmp_path) as url:
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine)
            async with engine.connect() as connection:
                assert await connection.run_sync(_tables) == set(metadata.tables)
                assert await connection.run_sync(_drift) == []
            assert await migrate.current(engine) is not None

            await migrate.downgrade(engine, "base")
            async with engine.connect() as connection:
                assert await connection.run_sync(_tables) == set()
            assert await migrate.current(engine) is None

            await migrate.upgrade(engine)
            async with engine.connect() as connection:
                assert await connection.run_sync(_tables) == set(metadata.tables)
                assert await connection.run_sync(_drift) == []
        finally:
            await engine.dispose()


def test_migration_files_are_date_slug_named() -> None:
    versions = migrate.SCRIPT_LOCATION / "versions"
    names = sorted(path.name for path in versions.glob("*.py"))
    assert names
    for name in names:
        year, month, day, *_ = name.split("_")
        assert len(year) == 4 and len(month) == 2 and len(day) == 2, name
