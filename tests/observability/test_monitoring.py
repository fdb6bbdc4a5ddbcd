"""Queue monitoring: `/health` turns degraded with its reasons while a threshold is crossed and back
to healthy after, with one warning per transition; the levels read DATA.md's table as written."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.admin.metrics_service import work_signals
from posegen.app import create_app
from posegen.config import MonitoringSettings, Settings
from posegen.db import Database
from posegen.generation.models import GeneratedPose, Generation
from posegen.kit.time import utcnow
from posegen.observability.monitoring import Monitor, higher_is_worse, lower_is_worse
from posegen.observability.prometheus import Metrics
from posegen.work.repository import set_paused
from tests.fixtures.app import make_settings, open_client
from tests.fixtures.factories import STANDING, create_project, create_user
from tests.generation.helpers import P, scene, submit, wait_finished

HEALTH = f"{P}/health"
CROSSED = "monitoring_threshold_crossed"
RECOVERED = "monitoring_threshold_recovered"


def logged(caplog: pytest.LogCaptureFixture, event: str) -> list[dict[str, Any]]:
    """The structured lines named `event` (structlog hands the standard library its event dict)."""
    return [
        record.msg
        for record in caplog.records
        if isinstance(record.msg, dict) and record.msg.get("event") == event
    ]


@pytest.fixture
def monitored_settings(database_url: str, data_dir: Path) -> Settings:
    return make_settings(
        database_url,
        data_dir,
        # A pose waiting one second warns; the periodic evaluation stays out of the way.
        monitoring={
            "oldest_queued_warn_seconds": 1.0,
            "oldest_queued_critical_seconds": 60.0,
            "interval_seconds": 3600,
        },
        work={"poll_interval_seconds": 0.05},
    )


@pytest.fixture
async def live(monitored_settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async for client in open_client(create_app(monitored_settings, embed_worker=True)):
        yield client


async def test_oldest_queued_pose_degrades_health_until_it_is_served(
    live: httpx.AsyncClient, db: Database, monitored_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    world = await scene(db, monitored_settings, poses=1)
    async with db.session() as session:
        await set_paused(session, True)
    accepted = await submit(
        live,
        world.headers,
        {
            "projectId": world.project.id,
            "generationType": "GALLERY_REFERENCE",
            "selectedPoseIds": [world.poses[0].id],
            "batchSize": 1,
        },
    )
    assert accepted.status_code == 202
    await asyncio.sleep(1.3)

    for _ in range(3):  # repeated checks in the same state log nothing more
        response = await live.get(HEALTH)
        assert response.status_code == 200  # degraded still serves
        body = response.json()
        assert body["status"] == "degraded"
        assert [(alert["signal"], alert["level"]) for alert in body["alerts"]] == [("oldest_queued", "warn")]
        alert = body["alerts"][0]
        assert alert["threshold"] == 1.0 and alert["value"] >= 1.0
        assert "oldest queued pose waits" in alert["message"]
        assert body["checks"]["queue"]["status"] == "degraded"
        assert "oldest queued pose waits" in body["checks"]["queue"]["message"]
        assert body["checks"]["work"]["status"] == "ok"
    crossed = logged(caplog, CROSSED)
    assert len(crossed) == 1, crossed
    assert crossed[0]["signal"] == "oldest_queued" and crossed[0]["alert_level"] == "warn"
    assert crossed[0]["previous"] == "ok" and crossed[0]["threshold"] == 1.0
    assert [record.levelno for record in caplog.records if record.msg is crossed[0]] == [logging.WARNING]
    assert logged(caplog, RECOVERED) == []

    async with db.session() as session:
        await set_paused(session, False)
    generation = await wait_finished(db, accepted.json()["generationId"])
    assert generation.status == "completed"
    for _ in range(2):
        body = (await live.get(HEALTH)).json()
        assert body["status"] == "healthy", body
        assert body["alerts"] == []
        assert body["checks"]["queue"] == {
            "status": "ok",
            "latencyMs": None,
            "message": "depth 0, oldest 0 s",
        }
    recovered = logged(caplog, RECOVERED)
    assert len(recovered) == 1, recovered
    assert recovered[0]["signal"] == "oldest_queued" and recovered[0]["previous"] == "warn"
    assert len(logged(caplog, CROSSED)) == 1


async def add_finished_poses(db: Database, completed: int, failed: int, ms: int = 1000) -> None:
    """A generation of `completed + failed` finished poses submitted a minute ago (15 credits each)."""
    user = await create_user(db)
    project = await create_project(db, user)
    total = completed + failed
    created = utcnow() - timedelta(minutes=1)
    async with db.session() as session:
        generation = Generation(
            user_id=user.id,
            project_id=project.id,
            generation_type="TEXT_DESCRIPTION",
            batch_size=1,
            variation_count=total,
            total_expected=total,
            engine="mannequin",
            quality="draft",
            base_seed=1,
            status="partial" if completed and failed else ("completed" if completed else "failed"),
            credit_charged=15 * total,
            credit_refunded=15 * failed,
            poses_completed=completed,
            poses_failed=failed,
            created_at=created,
        )
        session.add(generation)
        await session.flush()
        session.add_all(
            GeneratedPose(
                generation_id=generation.id,
                user_id=user.id,
                variation_key=f"text-v{index}",
                variation_index=index,
                seed=index,
                keypoints={"format": "openpose-18", "points": STANDING},
                engine="mannequin",
                status="completed" if index < completed else "failed",
                cost=15,
                refunded=index >= completed,
                generation_time_ms=ms if index < completed else None,
                error_code=None if index < completed else "PROVIDER_TIMEOUT",
                created_at=created,
                completed_at=created,
            )
            for index in range(total)
        )


async def test_success_and_refund_rates_over_the_window(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Too few finished poses are not judged; 19 of 20 completed warns (95 %); 19 of 22 is critical
    (86.36 %), logged as a new transition; the refund rate follows the same poses; all back to ok."""
    metrics = Metrics()
    monitor = Monitor(MonitoringSettings(min_finished_poses=20), work_signals, metrics)
    await add_finished_poses(db, completed=10, failed=9)  # 19 finished: not enough to judge
    evaluation = await monitor.evaluate(db)
    assert evaluation is not None and evaluation.alerts == []
    assert "19 finished poses" in evaluation.summary

    await db.run(_delete_all)
    await add_finished_poses(db, completed=19, failed=1)
    evaluation = await monitor.evaluate(db)
    assert evaluation is not None
    assert {(alert.signal, alert.level, alert.value) for alert in evaluation.alerts} == {
        ("success_rate", "warn", 95.0),
        ("refund_rate", "warn", 5.0),
    }
    await add_finished_poses(db, completed=0, failed=2)  # 19 of 22: 86.36 %, refunds 13.64 %
    evaluation = await monitor.evaluate(db)
    assert evaluation is not None
    assert {(alert.signal, alert.level) for alert in evaluation.alerts} == {
        ("success_rate", "critical"),
        ("refund_rate", "critical"),
    }
    crossed = [(line["signal"], line["alert_level"]) for line in logged(caplog, CROSSED)]
    assert crossed == [
        ("success_rate", "warn"),
        ("refund_rate", "warn"),
        ("success_rate", "critical"),
        ("refund_rate", "critical"),
    ]
    assert _level(metrics, "success_rate") == 2.0

    await db.run(_delete_all)
    evaluation = await monitor.evaluate(db)
    assert evaluation is not None and evaluation.alerts == []
    assert {line["signal"] for line in logged(caplog, RECOVERED)} == {"success_rate", "refund_rate"}
    assert _level(metrics, "success_rate") == 0.0


async def test_p95_time_per_pose(db: Database) -> None:
    monitor = Monitor(
        MonitoringSettings(
            min_finished_poses=5, pose_time_p95_warn_seconds=2, pose_time_p95_critical_seconds=4
        ),
        work_signals,
        Metrics(),
    )
    await add_finished_poses(db, completed=5, failed=0, ms=5000)
    evaluation = await monitor.evaluate(db)
    assert evaluation is not None
    assert [(alert.signal, alert.level, alert.value) for alert in evaluation.alerts] == [
        ("pose_time_p95", "critical", 5.0)
    ]


async def _delete_all(session: AsyncSession) -> None:
    await session.execute(delete(GeneratedPose))
    await session.execute(delete(Generation))


def _level(metrics: Metrics, signal: str) -> float:
    value = metrics.registry.get_sample_value("posegen_monitoring_level", {"signal": signal})
    assert value is not None
    return value


@pytest.mark.parametrize(
    ("value", "expected"),
    [(99, "ok"), (100, "warn"), (500, "warn"), (501, "critical")],
)
def test_queue_depth_levels_follow_data_md(value: float, expected: str) -> None:
    settings = MonitoringSettings()
    assert higher_is_worse(value, settings.queue_depth_warn, settings.queue_depth_critical)[0] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(95.01, "ok"), (95.0, "warn"), (90.0, "warn"), (89.99, "critical")],
)
def test_success_rate_levels_follow_data_md(value: float, expected: str) -> None:
    settings = MonitoringSettings()
    assert lower_is_worse(value, settings.success_rate_warn, settings.success_rate_critical)[0] == expected


def test_warn_beyond_critical_is_refused() -> None:
    with pytest.raises(ValueError, match="QUEUE_DEPTH"):
        MonitoringSettings(queue_depth_warn=600)
    with pytest.raises(ValueError, match="SUCCESS_RATE"):
        MonitoringSettings(success_rate_warn=80)
