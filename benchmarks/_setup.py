"""Shared set-up of the queue, credit and memory benchmarks (B1–B3, B5, B8).

Throwaway databases (PostgreSQL under a random name, dropped at the end even on failure; SQLite in a
temporary file), migrated to head; users with credits, one project each, a category and library poses
written directly; gallery generations submitted through ``generation.service.submit`` exactly as
``POST /generate`` does; waiting for generations to end; ``posegen worker`` processes started with
``POSEGEN_*`` variables and always stopped; and the metadata every benchmark reports.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import asyncpg
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from posegen import migrate
from posegen.auth.models import User
from posegen.config import (
    AuthSettings,
    DatabaseSettings,
    EngineSettings,
    Environment,
    LogSettings,
    QualitySettings,
    Settings,
    WorkSettings,
)
from posegen.credits import ledger
from posegen.credits.models import EntryKind
from posegen.db import Database, create_engine
from posegen.engines.base import Engine
from posegen.generation import service
from posegen.generation.models import TERMINAL_GENERATION, GeneratedPose, Generation
from posegen.generation.schemas import GenerateRequest
from posegen.library.models import Pose, PoseCategory, PoseTag
from posegen.library.service import search_text
from posegen.observability.logging import configure_logging
from posegen.projects.models import Project
from posegen.work import repository as queue
from posegen.work.models import Worker as WorkerRow

T = TypeVar("T")

POSTGRES_URL = os.environ.get("POSEGEN_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parents[1]
POLL_SECONDS = 0.02  # how often the benchmarks look at the database while waiting
SECRET = "benchmark-secret-" + secrets.token_hex(16)  # >= 32 characters; nobody logs in
TERMINAL = tuple(status.value for status in TERMINAL_GENERATION)

# The same plain standing figure as the test factories (COCO-18, normalised).
STANDING: list[list[float]] = [
    [0.5, 0.15, 1], [0.5, 0.25, 1], [0.42, 0.25, 1], [0.4, 0.38, 1], [0.39, 0.5, 1], [0.58, 0.25, 1],
    [0.6, 0.38, 1], [0.61, 0.5, 1], [0.45, 0.52, 1], [0.45, 0.7, 1], [0.45, 0.88, 1], [0.55, 0.52, 1],
    [0.55, 0.7, 1], [0.55, 0.88, 1], [0.48, 0.13, 1], [0.52, 0.13, 1], [0.46, 0.14, 1], [0.54, 0.14, 1],
]  # fmt: skip


# -- metadata -----------------------------------------------------------------------------------


def git_state() -> tuple[str | None, bool | None]:
    """The commit checked out and whether the working tree differs from it, or (None, None)."""
    git = shutil.which("git")
    if git is None:
        return None, None
    try:
        # Fixed arguments, no shell: nothing here comes from outside.
        head = subprocess.run(  # noqa: S603
            [git, "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(  # noqa: S603
            [git, "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return head or None, bool(status.strip())


def cores() -> int | None:
    return os.cpu_count()


def run_benchmark(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run `main` on a new event loop; SIGTERM or SIGINT cancel it, so its clean-up still runs."""

    async def guarded() -> T:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
        return await main()

    return asyncio.run(guarded())


def quiet_logging() -> None:
    """posegen's logging at WARNING, sent to stderr: stdout carries only the JSON result."""
    configure_logging(LogSettings(level="WARNING", json_lines=True))
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)


# -- databases ----------------------------------------------------------------------------------


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A new, migrated PostgreSQL database under a random name for the block; dropped after it."""
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL), timeout=10)
    name = f"posegen_bench_{secrets.token_hex(6)}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        await migrated(url)
        yield url
    finally:
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@contextmanager
def scratch_directory(prefix: str = "posegen-bench-") -> Iterator[Path]:
    """A temporary directory (data dir, SQLite file, worker logs), removed after the block."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@asynccontextmanager
async def sqlite_database(directory: Path) -> AsyncIterator[str]:
    """A new, migrated SQLite file in `directory` (removed with the directory)."""
    path = directory / f"posegen-{secrets.token_hex(4)}.db"
    url = f"sqlite:///{path}"
    await migrated(url)
    try:
        yield url
    finally:
        for suffix in ("", "-wal", "-shm"):
            await asyncio.to_thread(Path(f"{path}{suffix}").unlink, missing_ok=True)


async def migrated(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


# -- settings and processes ---------------------------------------------------------------------


def bench_settings(
    url: str,
    data_dir: Path,
    *,
    latency_ms: int,
    concurrency: int = 4,
    poll_seconds: float = POLL_SECONDS,
    pool_size: int = 10,
) -> Settings:
    """Settings of an in-process database, worker or submitter: the sleep engine on, the pose check
    off. Every benchmark that uses these renders with the `sleep` engine, whose plain images are never
    checked anyway; the switch's only effect would be the worker building the pose detector at start
    (~2 s of CPU per process, `pose_check.warm`), which would land inside the first measurement
    instead of in the start-up the benchmarks leave out. B12 measures the check itself."""
    return Settings(
        env=Environment.TEST,
        data_dir=data_dir,
        database=DatabaseSettings(url=url, pool_size=pool_size),
        auth=AuthSettings(jwt_secret=SecretStr(SECRET)),
        engines=EngineSettings(enable_sleep=True, sleep_latency_ms=latency_ms),
        work=WorkSettings(concurrency=concurrency, poll_interval_seconds=poll_seconds),
        quality=QualitySettings(pose_check=False),
        log=LogSettings(level="WARNING"),
    )


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment of a `posegen worker` process with the same settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("POSEGEN_")}
    env.update(
        POSEGEN_ENV="test",
        POSEGEN_DATABASE_URL=settings.database_url,
        POSEGEN_DATA_DIR=str(settings.data_dir),
        POSEGEN_AUTH_JWT_SECRET=SECRET,
        POSEGEN_LOG_LEVEL="WARNING",
        POSEGEN_ENGINES_ENABLE_SLEEP="true",
        POSEGEN_ENGINES_SLEEP_LATENCY_MS=str(settings.engines.sleep_latency_ms),
        POSEGEN_WORK_POLL_INTERVAL_SECONDS=str(settings.work.poll_interval_seconds),
        POSEGEN_WORK_CONCURRENCY=str(settings.work.concurrency),
        POSEGEN_QUALITY_POSE_CHECK=str(settings.quality.pose_check).lower(),
    )
    return env


@dataclass
class WorkerProcesses:
    """`posegen worker` processes; `stop()` (also run by `worker_processes`) ends every one."""

    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[IO[bytes]] = field(default_factory=list)
    log_paths: list[Path] = field(default_factory=list)

    def start(self, env: dict[str, str], concurrency: int, log_dir: Path) -> subprocess.Popen[bytes]:
        path = log_dir / f"worker-{len(self.processes)}.log"
        handle = path.open("wb")
        self.logs.append(handle)
        self.log_paths.append(path)
        # Fixed arguments, no shell: this interpreter running posegen itself.
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "posegen", "worker", "--concurrency", str(concurrency)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def check_alive(self) -> None:
        """Raise (with the end of its log) when a worker process has exited."""
        for process, path in zip(self.processes, self.log_paths, strict=True):
            if process.poll() is not None:
                tail = path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"worker {process.pid} exited with {process.returncode}: {tail}")

    def stop(self) -> None:
        """SIGTERM every worker (in-flight poses finish), SIGKILL those still there after 20 s."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for handle in self.logs:
            handle.close()


@contextmanager
def worker_processes() -> Iterator[WorkerProcesses]:
    workers = WorkerProcesses()
    try:
        yield workers
    finally:
        workers.stop()


async def wait_workers_registered(db: Database, workers: WorkerProcesses, within: float = 60) -> None:
    """Until every worker process has written its first heartbeat (it is then claiming)."""
    pids = {process.pid for process in workers.processes}
    deadline = time.monotonic() + within
    while True:
        async with db.session(write=False) as session:
            seen = set(await session.scalars(select(WorkerRow.pid)))
        if pids <= seen:
            return
        workers.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError("worker processes did not register")
        await asyncio.sleep(POLL_SECONDS)


def rss_kib(pid: int) -> int:
    """Resident set size of a process (VmRSS, KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


# -- CPU accounting -----------------------------------------------------------------------------
# The machine is small and shared: every timed phase also reports where the CPU went, so a ratio
# that misses its target can be told apart from a machine that was simply busy.

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_ticks(pid: int | str) -> int:
    """utime + stime of a process in clock ticks, 0 when it is gone or unreadable."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def _postgres_ticks() -> int:
    """CPU of every PostgreSQL server process on this machine (read only)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += _process_ticks(entry.name)
            except OSError:
                continue
    return total


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(values[:8])  # guest time is already counted in user
    idle = values[3] + values[4]
    return total - idle, total


@dataclass(frozen=True)
class CpuSnapshot:
    at: float
    machine_busy: int
    machine_total: int
    workers: int
    postgres: int
    own: float


def cpu_snapshot(worker_pids: Sequence[int] = ()) -> CpuSnapshot:
    busy, total = _machine_ticks()
    return CpuSnapshot(
        time.monotonic(),
        busy,
        total,
        sum(_process_ticks(pid) for pid in worker_pids),
        _postgres_ticks(),
        time.process_time(),
    )


def cpu_report(before: CpuSnapshot, after: CpuSnapshot, poses: int | None = None) -> dict[str, Any]:
    """CPU seconds used between two snapshots: the machine, the workers, PostgreSQL, this process, others."""
    wall = after.at - before.at
    busy = (after.machine_busy - before.machine_busy) / _TICK
    total = (after.machine_total - before.machine_total) / _TICK
    workers = (after.workers - before.workers) / _TICK
    postgres = (after.postgres - before.postgres) / _TICK
    own = after.own - before.own
    stack = workers + postgres + own
    report: dict[str, Any] = {
        "wall_s": round(wall, 2),
        # CPU of what is measured (worker processes + PostgreSQL + this process), in cores.
        "stack_cores_used": round(stack / wall, 2) if wall else None,
        "machine_busy_fraction": round(busy / total, 3) if total else None,
        "cpu_s": {
            "machine": round(busy, 2),
            "worker_processes": round(workers, 2),
            "postgresql": round(postgres, 2),
            "this_process": round(own, 2),
            "everything_else": round(max(0.0, busy - workers - postgres - own), 2),
        },
    }
    if poses:
        report["cpu_ms_per_pose"] = {
            "worker_processes": round(workers / poses * 1000, 1),
            "postgresql": round(postgres / poses * 1000, 1),
            "this_process": round(own / poses * 1000, 1),
        }
    return report


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


# -- data ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    users: list[User]
    projects: dict[str, Project]  # by user id
    poses: list[Pose]


async def populate(db: Database, *, users: int, credits: int, poses: int, label: str = "bench") -> World:
    """`users` users with `credits` each and one project each; a category with `poses` standing poses."""
    tag = secrets.token_hex(3)
    made_users = [
        User(
            email=f"{label}-{index}-{tag}@example.com",
            password_hash="!benchmark-no-login",  # noqa: S106 (not a hash: nobody can log in)
            name=f"{label} user {index}",
            role="user",
            is_active=True,
        )
        for index in range(users)
    ]
    async with db.session() as session:
        session.add_all(made_users)
        await session.flush()
        projects = {
            user.id: Project(user_id=user.id, name="Benchmark", avatar_attributes={}) for user in made_users
        }
        session.add_all(projects.values())
        category = PoseCategory(slug=f"{label}-{tag}", name=f"{label.title()} {tag}")
        session.add(category)
        await session.flush()
        made_poses = [
            Pose(
                category_id=category.id,
                slug=f"{label}-standing-{index}-{tag}",
                name=f"Standing {index}",
                description="A plain standing pose with arms down.",
                difficulty="beginner",
                gender_suitability="unisex",
                framing="full_body",
                keypoints={"format": "openpose-18", "points": STANDING, "depth": [0.0] * 18},
                source="curated",
                owner_id=None,
                is_public=True,
                is_featured=False,
                is_premium=False,
                usage_count=0,
                popularity_score=0.0,
                search_text=search_text(
                    f"Standing {index}", "A plain standing pose with arms down.", ["standing"]
                ),
            )
            for index in range(poses)
        ]
        session.add_all(made_poses)
        await session.flush()
        session.add_all(PoseTag(pose_id=pose.id, tag="standing") for pose in made_poses)
    if credits:
        for user in made_users:
            await grant(db, user.id, credits)
    return World(made_users, projects, made_poses)


async def grant(db: Database, user_id: str, amount: int) -> int:
    async with db.session() as session:
        entry = await ledger.move(
            session, user_id=user_id, amount=amount, kind=EntryKind.BONUS, reason="benchmark credits"
        )
        return entry.balance_after


def gallery_request(project: Project, pose_ids: Sequence[str], batch_size: int) -> GenerateRequest:
    """A draft gallery generation on the sleep engine, no exports."""
    return GenerateRequest.model_validate(
        {
            "projectId": project.id,
            "generationType": "GALLERY_REFERENCE",
            "selectedPoseIds": list(pose_ids),
            "batchSize": batch_size,
            "engine": "sleep",
            "quality": "draft",
            "outputFormats": [],
        }
    )


def _nothing() -> None:
    return None


async def submit_gallery(
    db: Database,
    settings: Settings,
    engines: Callable[[str], Engine | None],
    user: User,
    project: Project,
    pose_ids: Sequence[str],
    batch_size: int,
    wake: Callable[[], None] = _nothing,
) -> str:
    """Submit one gallery generation in its own transaction, as `POST /generate` does; its id."""
    body = gallery_request(project, pose_ids, batch_size)
    async with db.session() as session:
        accepted = await service.submit(
            session, settings, engines, user, body, None, wake, service.no_rate_limit
        )
    return accepted.generation_id


async def set_paused(db: Database, paused: bool) -> None:
    async with db.session() as session:
        await queue.set_paused(session, paused)


async def wait_terminal(
    db: Database,
    generation_ids: Sequence[str],
    *,
    within: float,
    check: Callable[[], None] | None = None,
    poll: float = POLL_SECONDS,
) -> None:
    """Until every generation in `generation_ids` has a terminal status (polling every 20 ms)."""
    deadline = time.monotonic() + within
    wanted = list(generation_ids)
    while True:
        async with db.session(write=False) as session:
            done = await session.scalar(
                select(func.count())
                .select_from(Generation)
                .where(Generation.id.in_(wanted), Generation.status.in_(TERMINAL))
            )
        if done == len(wanted):
            return
        if check is not None:
            check()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(wanted) - int(done or 0)} generations still running after {within} s")
        await asyncio.sleep(poll)


@dataclass(frozen=True)
class PoseTimes:
    poses: int
    completed: int
    first_started: datetime | None
    last_completed: datetime | None


async def pose_times(db: Database, generation_ids: Sequence[str]) -> PoseTimes:
    """How many poses the generations have, how many completed, and when work on them began and ended."""
    async with db.session(write=False) as session:
        row = (
            await session.execute(
                select(
                    func.count(),
                    func.count(GeneratedPose.completed_at),
                    func.min(GeneratedPose.started_at),
                    func.max(GeneratedPose.completed_at),
                ).where(GeneratedPose.generation_id.in_(list(generation_ids)))
            )
        ).one()
    return PoseTimes(int(row[0]), int(row[1]), row[2], row[3])


async def count_completed(db: Database, generation_ids: Sequence[str]) -> int:
    async with db.session(write=False) as session:
        value = await session.scalar(
            select(func.count())
            .select_from(GeneratedPose)
            .where(GeneratedPose.generation_id.in_(list(generation_ids)), GeneratedPose.status == "completed")
        )
    return int(value or 0)


def rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def metadata() -> dict[str, Any]:
    commit, dirty = git_state()
    return {
        "git_commit": commit,
        "git_dirty": dirty,
        "cores": cores(),
        "load_average_at_start": load_average(),
    }
