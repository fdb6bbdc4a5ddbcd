"""Claims: which leased rows a worker takes next, and taking them.

Every leased table (a pose, a background change) has the same lease columns, so one claim serves
every job kind, parameterised by its model and its kind's order of candidates (`CANDIDATES`).

PostgreSQL: one statement reads the candidates, locks the first still claimable with `SKIP
LOCKED` (so any number of workers claim at once without blocking on each other's rows) and
leases them. SQLite: the write transaction (`BEGIN IMMEDIATE`) serialises claims, which is all
one machine needs, so a read and an update do. The statements are built once per kind with bound
parameters (docs/decisions.md, "The claim in one statement").
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    Update,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.generation.models import BackgroundChange, GeneratedPose, Generation, PoseStatus
from posegen.generation.repository import Leased
from posegen.kit.orm import UTCDateTime
from posegen.work.models import QueueState
from posegen.work.repository import QUEUE_STATE_ID

# A batch claim reads this many candidates per wanted row (at least MIN_READ), so rows that other
# workers are claiming at the same moment can be skipped without coming back empty-handed.
OVER_READ = 4
MIN_READ = 16

LeasedT = TypeVar("LeasedT", GeneratedPose, BackgroundChange)


# -- claims ------------------------------------------------------------------------------------------


def claimable(model: type[Leased], now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """Queued and due, or running with an expired lease (that attempt counted) and attempts left."""
    return or_(
        and_(model.status == PoseStatus.QUEUED.value, model.available_at <= now),
        and_(
            model.status == PoseStatus.RUNNING.value,
            model.lease_expires_at < now,
            model.attempts < model.max_attempts,
        ),
    )


# The parameters of the claim statements, bound at each claim (the statements are built once).
NOW = bindparam("now", type_=UTCDateTime())
ENGINES: BindParameter[Any] = bindparam("engines", expanding=True)


async def claim(
    session: AsyncSession,
    model: type[LeasedT],
    engines: Sequence[str],
    worker_id: str,
    now: datetime,
    lease_seconds: float,
    limit: int = 1,
) -> list[tuple[LeasedT, str]]:
    """Lease up to `limit` claimable rows of `model` that `engines` can render, in the kind's
    order (`CANDIDATES`), to `worker_id`: running, attempt counted (a pose's start time set too),
    nothing while the queue is paused. The rows and their engines, in that order.

    The first candidates are read without locks (a fair order may need window functions, which
    `FOR UPDATE` refuses), a few more than `limit` so that rows other workers are claiming right
    now can be passed over; the first `limit` of them still claimable are taken, in order. On
    PostgreSQL that is one statement that locks them with `SKIP LOCKED`: a row another worker
    holds or took meanwhile is left out (its claimability is checked again once locked), never
    claimed twice. On SQLite the transaction's write lock keeps a read and an update alone."""
    if limit < 1 or not engines:
        return []
    parameters = {
        "now": now,
        "engines": list(engines),
        "worker_id": worker_id,
        "expires": now + timedelta(seconds=lease_seconds),
        "read": max(limit * OVER_READ, MIN_READ),
        "limit": limit,
    }
    if session.get_bind().dialect.name == "postgresql":
        rows = (await session.execute(_claim_in_one(model), parameters)).all()
        taken = sorted(rows, key=lambda row: int(row[2]))
        return [(row, engine) for row, engine, _position in taken]
    chosen = [
        (row_id, engine) for row_id, engine, _position in await session.execute(_chosen(model), parameters)
    ]
    if not chosen:
        return []
    updated = await session.scalars(
        _claim_by_ids(model), {**parameters, "ids": [row_id for row_id, _ in chosen]}
    )
    by_id = {row.id: row for row in updated}
    return [(by_id[row_id], engine) for row_id, engine in chosen if row_id in by_id]


# Claim statements are built once per kind: a claim is the one round trip a free slot waits for,
# and building these statements costs more than running them.


@functools.cache
def _chosen(model: type[Leased]) -> Select[str, str, int]:
    """The first `limit` claimable rows among the first `read` candidates (none while paused):
    id, engine and position, in order."""
    found = CANDIDATES[model](ENGINES, NOW).limit(bindparam("read")).cte("found")
    paused = exists().where(QueueState.id == QUEUE_STATE_ID, QueueState.paused.is_(True))
    return (
        select(model.id, found.c.engine, found.c.position)
        .join(found, found.c.id == model.id)
        .where(claimable(model, NOW), ~paused)
        .order_by(found.c.position)
        .limit(bindparam("limit"))
    )


def _lease_values(model: type[Leased]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "status": PoseStatus.RUNNING.value,
        "lease_owner": bindparam("worker_id"),
        "lease_expires_at": bindparam("expires", type_=UTCDateTime()),
        "attempts": model.attempts + 1,
    }
    if model is GeneratedPose:
        values["started_at"] = NOW
    return values


@functools.cache
def _claim_in_one(model: type[Leased]) -> Update:
    """PostgreSQL: lock the chosen rows (`SKIP LOCKED`) and lease them in one statement; the
    rows, their engines and positions."""
    taken = _chosen(model).with_for_update(skip_locked=True, of=model).cte("chosen")
    engine, position = (
        select(column).where(taken.c.id == model.id).scalar_subquery()
        for column in (taken.c.engine, taken.c.position)
    )
    return (
        update(model)
        .where(model.id.in_(select(taken.c.id)))
        .values(_lease_values(model))
        .returning(model, engine, position)
        .execution_options(synchronize_session=False)
    )


@functools.cache
def _claim_by_ids(model: type[Leased]) -> Update:
    """SQLite: lease the rows `_chosen` read, in the same write transaction."""
    return (
        update(model)
        .where(model.id.in_(bindparam("ids", expanding=True)))
        .values(_lease_values(model))
        .returning(model)
        .execution_options(synchronize_session=False)
    )


def pose_candidates(
    engines: Sequence[str] | BindParameter[Any], now: datetime | ColumnElement[datetime]
) -> Select[str, str, int]:
    """Claimable poses. Order: the user with the fewest poses running now first (so one user's 400
    queued poses cannot starve another's one), then priority, then age.

    A batch claim takes several at once, so each pose counts the user's poses claimed before it in
    the same batch as running: its user's running count plus its rank among that user's claimable
    poses. The batch is then exactly what as many single claims in a row would take."""
    running = (
        select(GeneratedPose.user_id, func.count().label("running"))
        .where(GeneratedPose.status == PoseStatus.RUNNING.value, GeneratedPose.lease_expires_at >= now)
        .group_by(GeneratedPose.user_id)
        .subquery()
    )
    within_user = (
        GeneratedPose.priority.desc(),
        GeneratedPose.created_at,
        GeneratedPose.variation_index,
        GeneratedPose.id,
    )
    rank = func.row_number().over(partition_by=GeneratedPose.user_id, order_by=within_user)
    ranked = (
        select(
            GeneratedPose.id,
            GeneratedPose.engine,
            (func.coalesce(running.c.running, 0) + rank).label("turn"),
            GeneratedPose.priority,
            GeneratedPose.created_at,
            GeneratedPose.variation_index,
        )
        .join(Generation, Generation.id == GeneratedPose.generation_id)
        .outerjoin(running, running.c.user_id == GeneratedPose.user_id)
        .where(
            claimable(GeneratedPose, now),
            GeneratedPose.engine.in_(engines),
            Generation.cancel_requested.is_(False),
        )
        .subquery()
    )
    order = (
        ranked.c.turn,
        ranked.c.priority.desc(),
        ranked.c.created_at,
        ranked.c.variation_index,
        ranked.c.id,
    )
    position = func.row_number().over(order_by=order).label("position")
    return select(ranked.c.id, ranked.c.engine, position).order_by(*order)


def change_candidates(
    engines: Sequence[str] | BindParameter[Any], now: datetime | ColumnElement[datetime]
) -> Select[str, str, int]:
    """Claimable background changes whose pose's engine this worker runs, oldest first."""
    order = (BackgroundChange.created_at, BackgroundChange.id)
    return (
        select(
            BackgroundChange.id,
            GeneratedPose.engine,
            func.row_number().over(order_by=order).label("position"),
        )
        .join(GeneratedPose, GeneratedPose.id == BackgroundChange.pose_id)
        .where(claimable(BackgroundChange, now), GeneratedPose.engine.in_(engines))
        .order_by(*order)
    )


# Each kind's claimable rows, in the order they are claimed.
CANDIDATES: dict[type[Leased], Callable[..., Select[str, str, int]]] = {
    GeneratedPose: pose_candidates,
    BackgroundChange: change_candidates,
}
