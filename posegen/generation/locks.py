"""LOCK ORDER: the one order in which a transaction that touches a generation takes its locks.

1. the Idempotency-Key (submit only: an advisory lock, `db.serialize_on`);
2. the project row (submit, retry: a project delete must see the generation active);
   2b. the chosen poses, `FOR KEY SHARE` in id order (submit: an owner's delete of a custom
   pose locks its row `FOR UPDATE` and nothing else, so it either sees the new generation's
   reference or has committed before and the submission finds the pose gone);
3. the generation row (`lock_generation`) — cancel, retry, delete, every worker
   outcome, background-change outcomes and the reconciler (in generation id
   order when it takes several);
4. its poses and background changes. A transaction holding a generation row
   never waits for a pose a worker may hold: cancel and the reconciler take
   queued or expired poses with `SKIP LOCKED`; retry and delete touch only
   finished poses; an outcome touches only the pose its worker leases (and,
   when it ends the generation, its completed poses, which no worker holds);
5. the credit account or quota row (through the ledger);
6. shared library rows (pose usage counters, when a generation ends), in id order.

Claims are the one inversion: a claim locks a pose with `SKIP LOCKED` (it
never waits for a pose) and then, the first time a queued generation is
claimed, that generation row. No cycle can close through it, because by (4)
no holder of a generation row waits for a claimable pose.

SQLite has no row locks: `BEGIN IMMEDIATE` serialises writers, and these
functions only read there.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.generation.models import Generation
from posegen.projects.models import Project


async def lock_project(session: AsyncSession, project_id: str) -> Project | None:
    """The project row, locked until commit (step 2), read afresh."""
    return await session.scalar(
        select(Project)
        .where(Project.id == project_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def lock_generation(session: AsyncSession, generation_id: str) -> Generation | None:
    """The generation row, locked until commit (step 3), read afresh: None once it was deleted.

    Whatever a transaction decides from this row (still active? already
    retried? cancel requested?) holds until it commits, because every other
    writer of the row waits here first.
    """
    return await session.scalar(
        select(Generation)
        .where(Generation.id == generation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
