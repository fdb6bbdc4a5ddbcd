"""`posegen doctor`: the invariants of DOMAIN.md, checked over the whole database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.credits import invariants as credit_invariants
from posegen.db import Database
from posegen.generation import invariants as generation_invariants

Check = Callable[[AsyncSession], Awaitable[list[str]]]

CHECKS: dict[str, Check] = {**credit_invariants.CHECKS, **generation_invariants.CHECKS}


@dataclass(frozen=True)
class Finding:
    check: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


async def examine(db: Database) -> list[Finding]:
    """Run every check in one snapshot, so they all see the same moment."""
    async with db.engine.connect() as connection:
        if db.dialect == "postgresql":
            # SQLite's WAL read transaction is a snapshot already.
            await connection.execution_options(isolation_level="REPEATABLE READ")
        async with AsyncSession(bind=connection) as session, session.begin():
            return [Finding(name, await check(session)) for name, check in CHECKS.items()]


def report(findings: list[Finding]) -> str:
    """A readable report: one line per check, then its problems."""
    lines = []
    for finding in findings:
        lines.append(f"{'ok  ' if finding.ok else 'FAIL'} {finding.check}")
        lines += [f"     - {problem}" for problem in finding.problems]
    return "\n".join(lines)
