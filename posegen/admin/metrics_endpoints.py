"""`/metrics…` under the app prefix: system metrics for administrators (API.md "Pose-generator
administration"). The admin check lives on the router. Prometheus' `/metrics` is another thing,
outside the prefix (observability/prometheus.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from posegen.admin import metrics_service as service
from posegen.admin.metrics_repository import Window
from posegen.admin.metrics_schemas import ErrorAnalysis, PeriodName, PopularPoses, SystemMetrics, TopUsers
from posegen.auth.dependencies import require_admin
from posegen.db import Session, UnitOfWorkRoute
from posegen.kit.text import LINE
from posegen.kit.time import utcnow

router = APIRouter(
    prefix="/metrics",
    tags=["admin: metrics"],
    dependencies=[Depends(require_admin)],
    route_class=UnitOfWorkRoute,
)


def period_params(
    period: Annotated[
        str | None,
        Query(max_length=10, description="day, week, month, year (rolling, ending now) or all; default day."),
        LINE,
    ] = None,
    start_date: Annotated[
        str | None,
        Query(
            alias="startDate",
            max_length=40,
            description="ISO-8601 date or date-time (UTC when no offset); instead of period.",
        ),
        LINE,
    ] = None,
    end_date: Annotated[
        str | None,
        Query(
            alias="endDate",
            max_length=40,
            description="ISO-8601 date (inclusive) or date-time (exclusive); default now.",
        ),
        LINE,
    ] = None,
) -> tuple[PeriodName, Window]:
    """The window of work (by submission time) a metrics request is about."""
    return service.window_for(period, start_date, end_date, utcnow())


Period = Annotated[tuple[PeriodName, Window], Depends(period_params)]


@router.get("")
async def system_metrics(session: Session, period: Period) -> SystemMetrics:
    """Generations, poses, render times and credits of the work submitted in the period, and the
    queue as it is now (docs/decisions.md defines every figure)."""
    return await service.system_metrics(session, *period)


@router.get("/top-users")
async def top_users(
    session: Session,
    period: Period,
    limit: Annotated[int, Query(ge=1, le=100, description="Accounts to list (1–100).")] = 10,
) -> TopUsers:
    """The accounts with the most poses generated from work submitted in the period."""
    return await service.top_users(session, *period, limit)


@router.get("/popular-poses")
async def popular_poses(
    session: Session,
    period: Period,
    limit: Annotated[int, Query(ge=1, le=100, description="Poses to list (1–100).")] = 20,
) -> PopularPoses:
    """The library poses chosen by the most generations submitted in the period."""
    return await service.popular_poses(session, *period, limit)


@router.get("/errors")
async def errors(session: Session, period: Period) -> ErrorAnalysis:
    """Failed poses of the period grouped by error code, with counts and when each was last seen."""
    return await service.errors(session, *period)
