"""B7, live events: commit → WebSocket receipt across processes via Redis; 1,000 idle sockets.

Run: ``.venv/bin/python benchmarks/b7_live_events.py [--compression deflate|none] [--users N]``;
prints one JSON object (BENCHMARKS.md); about 40 s on a 2-core machine.

Set-up: a throwaway, migrated PostgreSQL database; a private ``redis-server`` on a free port (no
persistence) and a unique channel; ONE ``posegen serve --no-worker`` process with that Redis — the
process whose sockets are measured; N users (default 100), each with one project and one queued
generation written through the ORM.

(a) Idle sockets. A warm-up of 20 sockets is opened and closed (first-use costs: imports, database
    pool), then the API process's VmRSS is read (``/proc/<pid>/status``), 1,000 WebSockets are
    opened from this process (1,000 / N per user; each sends ``auth`` and reads ``connected`` and
    ``snapshot``), and VmRSS is read again once they are idle: memory per idle socket =
    ΔRSS / 1,000 (target ≤ 64 KiB); the slope between 500 and 1,000 sockets is reported too. The
    clients offer permessage-deflate by default, as browsers do (uvicorn accepts it: window 2^12,
    memLevel 5); ``--compression none`` measures sockets without it. The API process's
    connections to Redis are counted from its own file descriptors and ``/proc/<pid>/net/tcp``
    (ESTABLISHED, remote port = Redis), and Redis's ``CLIENT LIST`` is read before the API starts,
    after it started, with 1,000 sockets and after the latency run: the API's count must stay 1
    whatever the number of sockets.
(b) Latency, with the 1,000 sockets open. This process (not the API process) is the publisher: a
    ``Database`` publishing to a ``RedisBus(listen=False)`` (``db.publishing_to``), exactly as
    ``posegen worker`` does. 500 events are appended (``generation.progress``, round-robin over the
    N generations, paced every 15 ms), each in its own ``db.session()`` transaction; the commit time
    is taken just after the session block exits. Every socket of the event's user must receive it:
    latency = receipt (when ``recv`` hands the message over on that socket) − commit, on the same
    machine clock, every receipt one sample. Target p99 ≤ 50 ms. Every socket must receive each of
    its user's events exactly once and in seq order, and nothing of another user. A Redis
    subscriber in this process also times commit → Redis delivery, to tell the broker hop from the
    API process's fan-out; the API process's CPU per socket send is reported. The receiving clients
    share this process's event loop, so their own CPU is part of the figure (a conservative measure).

Why 100 users by default: each event is sent to every socket of its user, so with 10 users (100
sockets each) the run offers ~6,700 socket sends/s to one API process, more than one process
delivers on this machine (see ``fan_out``): the latency then measures a growing backlog, not the
path. ``--users 10`` runs that fan-out stress.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx
from _setup import (
    ROOT,
    SECRET,
    bench_settings,
    cpu_report,
    cpu_snapshot,
    metadata,
    populate,
    postgres_database,
    quiet_logging,
    rss_kib,
    run_benchmark,
    scratch_directory,
    worker_env,
)
from redis import asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from posegen.auth.tokens import TokenService
from posegen.config import RealtimeSettings, RedisSettings, Settings
from posegen.db import Database, create_engine
from posegen.generation import events
from posegen.generation.event_kinds import GenerationProgress
from posegen.generation.models import Generation, GenerationStatus, GenerationType
from posegen.realtime.bus import create_bus

USERS = 100  # 10 sockets per user; --users 10 gives 100 per user (a fan-out stress)
SOCKETS = 1000
WARM_UP_SOCKETS = 20
EVENTS = 500
INTERVAL_S = 0.015
OPEN_CONCURRENCY = 25  # sockets being opened at once (the API's database pool is 10 + 10)
QUEUE_SIZE = 10_000  # per-socket inbox of the API process: generous, nobody is closed as too slow
SETTLE_S = 1.0  # idle time before reading RSS
TARGET_P99_MS = 50.0
TARGET_KIB_PER_SOCKET = 64.0
DRAIN_TIMEOUT_S = 15.0
STEP_TIMEOUT_S = 30.0
NOTE = (
    "One posegen serve --no-worker process with its own Redis (redis-server on a free port, unique "
    "channel). Memory: VmRSS of the API process after a 20-socket warm-up (opened and closed) vs. with "
    "1,000 authenticated idle sockets, spread evenly over the users; the clients offer "
    "permessage-deflate, as browsers do, unless --compression none. Broker: the API process's "
    "ESTABLISHED TCP connections to the Redis port (its fds vs /proc/<pid>/net/tcp) and Redis CLIENT "
    "LIST (the benchmark's admin connection excluded). Latency: this process is the publisher "
    "(db.publishing_to(RedisBus(listen=False).publish), as posegen worker); commit time = "
    "time.time() right after the db.session() block exits; receipt time = when recv hands the "
    "message over on each of the user's sockets (the clients run in this process, so their CPU counts "
    "against the figure); every receipt is one sample. redis_hop: commit to delivery at a Redis "
    "subscriber in this process. 2-core shared machine: see cpu and load_average_at_start."
)
WS_PATH = "/api/apps/pose-generator/ws"
HEALTH_PATH = "/api/apps/pose-generator/health"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def raise_open_file_limit(wanted: int) -> tuple[int, int]:
    """Soft RLIMIT_NOFILE raised towards `wanted` (never past the hard limit); the limits now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def stop_process(process: subprocess.Popen[bytes], grace_s: float = 20) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# -- processes ----------------------------------------------------------------------------------


def spawn(argv: list[str], log: IO[bytes], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start `argv` (fixed arguments, no shell) in the project root, its output to `log`."""
    return subprocess.Popen(  # noqa: S603
        argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
    )


@asynccontextmanager
async def redis_server(log_dir: Path) -> AsyncIterator[int]:
    """A private redis-server on a free port, no persistence; its port. Stopped after the block."""
    port = free_port()
    executable = shutil.which("redis-server")
    if executable is None:
        raise RuntimeError("redis-server is not installed")
    argv = [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    log = (log_dir / "redis.log").open("wb")
    process = spawn([*argv, "--dir", str(log_dir)], log)
    try:
        client = aioredis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
        try:
            deadline = time.monotonic() + STEP_TIMEOUT_S
            while True:
                try:
                    await client.ping()
                    break
                except (OSError, aioredis.RedisError):
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("redis-server did not start") from None
                    await asyncio.sleep(0.05)
        finally:
            await client.aclose()
        yield port
    finally:
        stop_process(process, grace_s=10)
        log.close()


@dataclass
class ApiProcess:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"API process exited with {self.process.returncode}: {tail}")


@asynccontextmanager
async def api_process(env: dict[str, str], log_dir: Path) -> AsyncIterator[ApiProcess]:
    """`posegen serve --no-worker` on a free port, once /health answers; always stopped."""
    port = free_port()
    log_path = log_dir / "api.log"
    log = log_path.open("wb")
    process = spawn([sys.executable, "-m", "posegen", "serve", "--port", str(port), "--no-worker"], log, env)
    api = ApiProcess(process, f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + STEP_TIMEOUT_S
        async with httpx.AsyncClient(base_url=api.url, timeout=2) as client:
            while True:
                try:
                    if (await client.get(HEALTH_PATH)).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                api.check_alive()
                if time.monotonic() > deadline:
                    raise RuntimeError("the API process did not start")
                await asyncio.sleep(0.1)
        yield api
    finally:
        await asyncio.to_thread(stop_process, process)
        log.close()


def connections_to_port(pid: int, port: int) -> int:
    """ESTABLISHED TCP connections of process `pid` whose remote port is `port`."""
    inodes: set[str] = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    count = 0
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if fields[3] == "01" and remote_port == port and fields[9] in inodes:
                count += 1
    return count


# -- sockets ------------------------------------------------------------------------------------


@dataclass
class Client:
    user_id: str
    connection: ClientConnection
    received: list[tuple[str, int, float]] = field(default_factory=list)  # generationId, seq, time
    other: list[dict[str, Any]] = field(default_factory=list)  # anything that is not an event
    closed_early: bool = False
    close_code: int | None = None
    reader: asyncio.Task[None] | None = None

    async def read(self) -> None:
        try:
            async for raw in self.connection:
                at = time.time()
                message = json.loads(raw)
                if message.get("type") == "event":
                    self.received.append((str(message["generationId"]), int(message["seq"]), at))
                else:
                    self.other.append(message)
        except ConnectionClosed:
            pass
        self.closed_early = True
        self.close_code = self.connection.close_code


async def open_socket(url: str, user_id: str, token: str, compression: str | None) -> Client:
    """A WebSocket authenticated by its first message, past `connected` and `snapshot`."""
    connection = await connect(url, compression=compression, open_timeout=STEP_TIMEOUT_S)
    try:
        await connection.send(json.dumps({"type": "auth", "token": token}))
        async with asyncio.timeout(STEP_TIMEOUT_S):
            connected = json.loads(await connection.recv())
            snapshot = json.loads(await connection.recv())
        if connected.get("type") != "connected" or connected.get("userId") != user_id:
            raise RuntimeError(f"expected connected, got {connected}")
        if snapshot.get("type") != "snapshot":
            raise RuntimeError(f"expected snapshot, got {snapshot}")
    except BaseException:
        await connection.close()
        raise
    return Client(user_id, connection)


async def open_sockets(
    url: str, owners: Sequence[tuple[str, str]], compression: str | None, api: ApiProcess
) -> list[Client]:
    """One socket per (user id, token), at most OPEN_CONCURRENCY being opened at once."""
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)

    async def one(user_id: str, token: str) -> Client:
        async with gate:
            return await open_socket(url, user_id, token, compression)

    tasks = [asyncio.create_task(one(user_id, token)) for user_id, token in owners]
    try:
        clients = await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        opened = await asyncio.gather(*tasks, return_exceptions=True)
        await close_sockets([client for client in opened if isinstance(client, Client)])
        api.check_alive()
        raise
    for client in clients:
        client.reader = asyncio.create_task(client.read())
    return list(clients)


async def close_sockets(clients: Sequence[Client]) -> None:
    gate = asyncio.Semaphore(100)

    async def one(client: Client) -> None:
        async with gate:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.connection.close(), timeout=5)
        if client.reader is not None:
            client.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await client.reader

    await asyncio.gather(*(one(client) for client in clients))


# -- figures ------------------------------------------------------------------------------------


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an already sorted sequence."""
    if not ordered:
        return None
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def summary_ms(values: Sequence[float]) -> dict[str, float | int | None]:
    ordered = sorted(values)

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 2)

    return {
        "count": len(ordered),
        "p50_ms": ms(percentile(ordered, 0.50)),
        "p95_ms": ms(percentile(ordered, 0.95)),
        "p99_ms": ms(percentile(ordered, 0.99)),
        "max_ms": ms(ordered[-1] if ordered else None),
    }


async def client_count(admin: aioredis.Redis) -> int:
    """Clients connected to Redis, this benchmark's named admin connection not counted."""
    clients = await admin.client_list()
    return sum(1 for client in clients if client.get("name") != "b7-admin")


# -- the benchmark ------------------------------------------------------------------------------


async def run(compression: str | None, users: int) -> dict[str, Any]:
    quiet_logging()
    limits = raise_open_file_limit(SOCKETS * 2 + 1024)
    meta = metadata()
    channel = f"posegen:b7:{secrets.token_hex(6)}"
    with scratch_directory("posegen-b7-") as tmp:
        data_dir = tmp / "data"
        data_dir.mkdir()
        async with postgres_database() as url, redis_server(tmp) as redis_port:
            redis_url = f"redis://127.0.0.1:{redis_port}/0"
            settings: Settings = bench_settings(url, data_dir, latency_ms=1).model_copy(
                update={
                    "redis": RedisSettings(url=redis_url, channel=channel),
                    "realtime": RealtimeSettings(queue_size=QUEUE_SIZE),
                }
            )
            admin = aioredis.Redis(host="127.0.0.1", port=redis_port, client_name="b7-admin")
            db = Database(create_engine(url, pool_size=5))
            try:
                return await measure(settings, db, admin, redis_port, compression, users, limits, meta, tmp)
            finally:
                await db.dispose()
                await admin.aclose()


async def measure(
    settings: Settings,
    db: Database,
    admin: aioredis.Redis,
    redis_port: int,
    compression: str | None,
    user_count: int,
    limits: tuple[int, int],
    meta: dict[str, Any],
    tmp: Path,
) -> dict[str, Any]:
    world = await populate(db, users=user_count, credits=0, poses=0, label="b7")
    generations: dict[str, str] = {}  # user id -> generation id
    async with db.session() as session:
        for user in world.users:
            generation = Generation(
                user_id=user.id,
                project_id=world.projects[user.id].id,
                generation_type=GenerationType.GALLERY_REFERENCE.value,
                batch_size=1,
                variation_count=1,
                total_expected=EVENTS,
                engine="sleep",
                quality="draft",
                base_seed=1,
                export_formats=[],
                status=GenerationStatus.QUEUED.value,
            )
            session.add(generation)
            await session.flush()
            generations[user.id] = generation.id
    owner_of = {generation_id: user_id for user_id, generation_id in generations.items()}
    tokens = TokenService(secret=SECRET, issuer="posegen", audience="posegen-api", ttl_seconds=3600)
    token_of = {user.id: tokens.issue(user.id, user.token_version).token for user in world.users}

    env = worker_env(settings)
    env.update(
        POSEGEN_REDIS_URL=str(settings.redis.url),
        POSEGEN_REDIS_CHANNEL=settings.redis.channel,
        POSEGEN_REALTIME_QUEUE_SIZE=str(QUEUE_SIZE),
        # Up to all 1,000 sockets may belong to one user (--users 1): the cap must not refuse them.
        POSEGEN_LIMITS_WEBSOCKETS_PER_USER=str(SOCKETS),
    )
    redis_clients: dict[str, int] = {"before_api": await client_count(admin)}
    api_redis: dict[str, int] = {}
    rss: dict[str, int] = {}
    async with api_process(env, tmp) as api:
        ws_url = api.url.replace("http://", "ws://") + WS_PATH
        await asyncio.sleep(SETTLE_S)  # the bus's subscription is made in the background
        redis_clients["after_api_start"] = await client_count(admin)
        api_redis["after_start"] = connections_to_port(api.pid, redis_port)
        rss["cold_kib"] = rss_kib(api.pid)

        users = [user.id for user in world.users]
        warm = await open_sockets(
            ws_url,
            [(users[i % user_count], token_of[users[i % user_count]]) for i in range(WARM_UP_SOCKETS)],
            compression,
            api,
        )
        await close_sockets(warm)
        await asyncio.sleep(SETTLE_S)
        rss["before_kib"] = rss_kib(api.pid)

        owners = [(users[i % user_count], token_of[users[i % user_count]]) for i in range(SOCKETS)]
        clients: list[Client] = []
        try:
            started = time.monotonic()
            clients += await open_sockets(ws_url, owners[: SOCKETS // 2], compression, api)
            await asyncio.sleep(SETTLE_S)
            rss["at_half_kib"] = rss_kib(api.pid)
            clients += await open_sockets(ws_url, owners[SOCKETS // 2 :], compression, api)
            open_s = time.monotonic() - started
            await asyncio.sleep(SETTLE_S)
            rss["at_full_kib"] = rss_kib(api.pid)
            open_at_full = sum(1 for client in clients if not client.closed_early)
            redis_clients["with_sockets"] = await client_count(admin)
            api_redis["with_sockets"] = connections_to_port(api.pid, redis_port)
            api.check_alive()

            latency = await latency_run(settings, db, admin, api, clients, generations, owner_of)
            redis_clients["after_latency_run"] = await client_count(admin)
            api_redis["after_latency_run"] = connections_to_port(api.pid, redis_port)
            rss["after_latency_run_kib"] = rss_kib(api.pid)
            api.check_alive()
        finally:
            await close_sockets(clients)

    per_socket_kib = (rss["at_full_kib"] - rss["before_kib"]) / SOCKETS
    slope_kib = (rss["at_full_kib"] - rss["at_half_kib"]) / (SOCKETS - SOCKETS // 2)
    constant = (
        len(set(api_redis.values())) == 1
        and redis_clients["with_sockets"] == redis_clients["after_api_start"]
    )
    latency_ok = latency["receipts"]["p99_ms"] is not None and latency["receipts"]["p99_ms"] <= TARGET_P99_MS
    order_ok = latency["delivery"]["mismatched_sockets"] == 0 and latency["delivery"]["foreign_events"] == 0
    return {
        "benchmark": "B7 live events",
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        **meta,
        "python": sys.version.split()[0],
        "open_file_limit": list(limits),
        "setup": {
            "users": user_count,
            "sockets": SOCKETS,
            "sockets_per_user": SOCKETS // user_count,
            "client_compression": compression or "none",
            "events": EVENTS,
            "publish_interval_ms": INTERVAL_S * 1000,
            "api_queue_size": QUEUE_SIZE,
        },
        "idle_sockets": {
            "open_1000_s": round(open_s, 2),
            "sockets_open_when_measured": open_at_full,
            "api_rss_kib": rss,
            "kib_per_idle_socket": round(per_socket_kib, 2),
            "kib_per_socket_slope_500_to_1000": round(slope_kib, 2),
            "target_kib": TARGET_KIB_PER_SOCKET,
            "pass": per_socket_kib <= TARGET_KIB_PER_SOCKET,
        },
        "broker_connections": {
            "api_process_to_redis": api_redis,
            "redis_client_list_count": redis_clients,
            "per_process_constant": api_redis.get("with_sockets"),
            "target": "constant (1) per process, not per socket",
            "pass": constant and api_redis.get("with_sockets") == 1,
        },
        "latency": {
            **latency,
            "target_p99_ms": TARGET_P99_MS,
            "pass": latency_ok,
        },
        "delivery_pass": order_ok,
        "pass": bool(
            per_socket_kib <= TARGET_KIB_PER_SOCKET
            and constant
            and api_redis.get("with_sockets") == 1
            and latency_ok
            and order_ok
        ),
        "note": NOTE,
    }


async def latency_run(
    settings: Settings,
    db: Database,
    admin: aioredis.Redis,
    api: ApiProcess,
    clients: Sequence[Client],
    generations: dict[str, str],
    owner_of: dict[str, str],
) -> dict[str, Any]:
    for client in clients:
        client.received.clear()
    sockets_of: dict[str, int] = defaultdict(int)
    for client in clients:
        sockets_of[client.user_id] += 1
    user_ids = list(generations)

    tap_times: dict[tuple[str, int], float] = {}
    tap_client = aioredis.from_url(str(settings.redis.url), client_name="b7-tap")
    tap = tap_client.pubsub()
    await tap.subscribe(settings.redis.channel)

    async def listen_tap() -> None:
        while True:
            message = await tap.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None and message.get("type") == "message":
                event = json.loads(message["data"])
                tap_times[(str(event["generationId"]), int(event["seq"]))] = time.time()

    bus = create_bus(settings, db, listen=False)
    await bus.start()
    publisher = db.publishing_to(bus.publish)
    tap_task = asyncio.create_task(listen_tap())
    commits: dict[tuple[str, int], float] = {}
    expected_receipts = 0
    before = cpu_snapshot([api.pid])
    try:
        start = time.monotonic()
        for index in range(EVENTS):
            delay = start + index * INTERVAL_S - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            user_id = user_ids[index % len(user_ids)]
            generation_id = generations[user_id]
            async with publisher.session() as session:
                progress = GenerationProgress(
                    completed=index // len(user_ids) + 1,
                    failed=0,
                    total=EVENTS,
                    percentage=round((index + 1) * 100 / EVENTS, 1),
                    estimated_time_remaining=None,
                )
                seq = await events.append(session, generation_id, user_id, progress)
            commits[(generation_id, seq)] = time.time()
            expected_receipts += sockets_of[user_id]
        publish_s = time.monotonic() - start
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while sum(len(client.received) for client in clients) < expected_receipts:
            if time.monotonic() > deadline:
                break
            api.check_alive()
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # anything extra (a repeat) would arrive now
        after = cpu_snapshot([api.pid])
    finally:
        tap_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await tap_task
        await bus.stop()
        await tap.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
        await tap_client.aclose()

    seqs_of: dict[str, list[int]] = defaultdict(list)
    for generation_id, seq in sorted(commits):
        seqs_of[generation_id].append(seq)
    for seqs in seqs_of.values():
        seqs.sort()
    samples: list[float] = []
    first: dict[tuple[str, int], float] = {}
    last: dict[tuple[str, int], float] = {}
    mismatched = foreign = closed = 0
    for client in clients:
        own = generations[client.user_id]
        got: list[int] = []
        for generation_id, seq, at in client.received:
            if owner_of.get(generation_id) != client.user_id:
                foreign += 1
                continue
            got.append(seq)
            key = (generation_id, seq)
            if key in commits:
                samples.append(at - commits[key])
                first[key] = min(first.get(key, at), at)
                last[key] = max(last.get(key, at), at)
        if got != seqs_of[own]:
            mismatched += 1
        if client.closed_early:
            closed += 1
    received = sum(len(client.received) for client in clients)
    cpu = cpu_report(before, after)
    api_cpu_s = float(cpu["cpu_s"]["worker_processes"])
    anomalies = mismatched or foreign or closed or received != expected_receipts
    return {
        "publish_s": round(publish_s, 2),
        "receipts": summary_ms(samples),
        "first_socket_per_event": summary_ms([first[key] - commits[key] for key in first]),
        "last_socket_per_event": summary_ms([last[key] - commits[key] for key in last]),
        "redis_hop": summary_ms([tap_times[key] - commits[key] for key in commits if key in tap_times]),
        "delivery": {
            "expected_receipts": expected_receipts,
            "received": received,
            "mismatched_sockets": mismatched,
            "foreign_events": foreign,
            "sockets_closed_by_server": closed,
            "close_codes": dict(Counter(str(client.close_code) for client in clients if client.closed_early)),
            "non_event_messages": sum(len(client.other) for client in clients),
        },
        "fan_out": {
            "socket_sends_offered_per_s": round(expected_receipts / publish_s, 1),
            "api_cpu_us_per_socket_send": round(api_cpu_s / received * 1e6, 1) if received else None,
            "api_socket_sends_per_cpu_s": round(received / api_cpu_s) if api_cpu_s else None,
        },
        "cpu": {**cpu, "key": "cpu_s.worker_processes is the API process here"},
        **({"api_log_tail": api.log_path.read_text(errors="replace")[-3000:]} if anomalies else {}),
    }


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--compression",
        choices=["deflate", "none"],
        default="deflate",
        help="what the clients offer: permessage-deflate (as browsers) or nothing",
    )
    parser.add_argument(
        "--users",
        type=int,
        choices=[10, 20, 50, 100, 200, 500, 1000],
        default=USERS,
        help="users the 1,000 sockets are spread over (each event reaches 1,000 / users sockets)",
    )
    args = parser.parse_args()
    compression = None if args.compression == "none" else "deflate"
    return run_benchmark(lambda: run(compression, args.users))


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
