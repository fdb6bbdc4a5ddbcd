"""B4, API under load: 50 concurrent clients send 2,000 `POST /generate` (1 pose each) to a real
`posegen serve --no-worker` on PostgreSQL, while one more client calls `GET /health` in the same run.

Run: ``.venv/bin/python benchmarks/b4_api_load.py`` (``--clients N``, ``--requests N``); prints one
JSON object (BENCHMARKS.md).

The server runs as its own process, as in production (uvicorn, one event loop, a pool of 20
connections), against a throwaway PostgreSQL database; no worker runs, so only admission is
measured: validation, the charge, the generation, its pose row and first event in one transaction.
50 users (one per client) each get credits for their 40 draft poses through the ledger and a token
minted with the server's secret. The rate limits are raised for the run (DATA.md's 60 writes per
minute per user would refuse most of it: that is what they are for). Reported: requests per second,
p50/p99/max latency of each route, every status seen; targets: `/generate` p99 ≤ 10 × `/health` p99
and no 5xx.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from _setup import (
    ROOT,
    bench_settings,
    cpu_report,
    cpu_snapshot,
    metadata,
    populate,
    postgres_database,
    quiet_logging,
    run_benchmark,
    scratch_directory,
    worker_env,
)

from posegen.auth.tokens import TokenService
from posegen.db import Database, create_engine

PREFIX = "/api/apps/pose-generator"
DRAFT_COST = 15
RAISED_LIMIT = "1000000"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(latencies: list[float]) -> dict[str, Any]:
    return {
        "requests": len(latencies),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
    }


def start_server(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """`posegen serve --no-worker` with `env`, its output in `log_path`."""
    with log_path.open("wb") as log:
        # Fixed arguments, no shell: the project's own command.
        return subprocess.Popen(  # noqa: S603
            [str(Path(sys.executable).parent / "posegen"), "serve", "--no-worker"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def wait_healthy(client: httpx.AsyncClient, process: subprocess.Popen[bytes], within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"posegen serve exited with {process.returncode}")
        try:
            if (await client.get(f"{PREFIX}/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("posegen serve did not become healthy")


async def load(url: str, scratch: Path, clients: int, per_client: int) -> dict[str, Any]:
    settings = bench_settings(url, scratch / "data", latency_ms=0)
    db = Database(create_engine(url))
    try:
        world = await populate(db, users=clients, credits=per_client * DRAFT_COST, poses=1)
    finally:
        await db.dispose()
    tokens = TokenService.from_settings(settings)
    port = free_port()
    env = worker_env(settings) | {
        "POSEGEN_SERVER_PORT": str(port),
        "POSEGEN_DATABASE_POOL_SIZE": "20",
        "POSEGEN_LIMITS_POSES_PER_HOUR": RAISED_LIMIT,
        "POSEGEN_LIMITS_WRITES_PER_MINUTE": RAISED_LIMIT,
        "POSEGEN_LIMITS_AUTH_PER_MINUTE": RAISED_LIMIT,
    }
    server = start_server(env, scratch / "serve.log")
    base = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=clients + 1, max_keepalive_connections=clients + 1)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
            await wait_healthy(client, server, within=60)
            statuses: Counter[str] = Counter()
            generate: list[float] = []
            health: list[float] = []
            running = True

            async def one_client(index: int) -> None:
                user = world.users[index]
                headers = {"Authorization": f"Bearer {tokens.issue(user.id, user.token_version).token}"}
                body = {
                    "projectId": world.projects[user.id].id,
                    "generationType": "GALLERY_REFERENCE",
                    "selectedPoseIds": [world.poses[0].id],
                    "batchSize": 1,
                    "quality": "draft",
                    "engine": "sleep",
                }
                for _ in range(per_client):
                    started = time.perf_counter()
                    response = await client.post(f"{PREFIX}/generate", json=body, headers=headers)
                    generate.append(time.perf_counter() - started)
                    statuses[f"generate {response.status_code}"] += 1

            async def health_client() -> None:
                while running:
                    started = time.perf_counter()
                    response = await client.get(f"{PREFIX}/health")
                    health.append(time.perf_counter() - started)
                    statuses[f"health {response.status_code}"] += 1

            before = cpu_snapshot([server.pid])
            started = time.perf_counter()
            prober = asyncio.create_task(health_client())
            await asyncio.gather(*(one_client(index) for index in range(clients)))
            elapsed = time.perf_counter() - started
            running = False
            await prober
            cpu = cpu_report(before, cpu_snapshot([server.pid]))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    server_errors = sum(count for key, count in statuses.items() if key.split()[1].startswith("5"))
    generate_summary = summary(generate)
    health_summary = summary(health)
    ratio = generate_summary["p99_ms"] / health_summary["p99_ms"]
    checks = {
        "every_generate_accepted": statuses["generate 202"] == clients * per_client,
        "no_5xx": server_errors == 0,
        "generate_p99_within_10x_health_p99": ratio <= 10,
    }
    return {
        "clients": clients,
        "generate_requests": clients * per_client,
        "elapsed_s": round(elapsed, 2),
        "generate_per_s": round(clients * per_client / elapsed, 1),
        "generate": generate_summary,
        "health": health_summary,
        "generate_p99_over_health_p99": round(ratio, 2),
        "statuses": dict(sorted(statuses.items())),
        "cpu_server_process_as_workers": cpu,
        "checks": checks,
        "pass": all(checks.values()),
    }


async def run(clients: int, per_client: int) -> dict[str, Any]:
    started = time.perf_counter()
    quiet_logging()
    with scratch_directory() as scratch:
        async with postgres_database() as url:
            result = await load(url, scratch, clients, per_client)
    return {
        "benchmark": "B4 API under load",
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        **metadata(),
        "database": "postgresql",
        **result,
        "total_elapsed_s": round(time.perf_counter() - started, 1),
    }


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000, help="POST /generate in all")
    args = parser.parse_args()
    per_client = max(1, args.requests // args.clients)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    return run_benchmark(lambda: run(args.clients, per_client))


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
