"""Real `posegen serve` and `posegen worker` processes for cross-process tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.fixtures.app import HIGH_LIMITS, TEST_SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def process_env(database_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("POSEGEN_")}
    env.update(
        POSEGEN_ENV="test",
        POSEGEN_DATABASE_URL=database_url,
        POSEGEN_DATA_DIR=str(data_dir),
        POSEGEN_AUTH_JWT_SECRET=TEST_SECRET,
        POSEGEN_LOG_LEVEL="WARNING",
    )
    env.update({f"POSEGEN_LIMITS_{name.upper()}": str(value) for name, value in HIGH_LIMITS.items()})
    env.update(settings)
    return env


@contextmanager
def worker_process(
    env: dict[str, str], concurrency: int = 2, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`posegen worker`; its log lines go to `log` when given."""
    output = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "posegen", "worker", "--concurrency", str(concurrency)],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if not isinstance(output, int):
            output.close()


@contextmanager
def api_server(
    env: dict[str, str],
    port: int | None = None,
    within: float = 60,
    *,
    worker: bool = False,
    log: Path | None = None,
) -> Iterator[tuple[str, int]]:
    """`posegen serve` (with `--no-worker` unless `worker`) on `port` (a free one when None): its base
    URL and pid once it answers `/health`; terminated (then killed) after the block. Its output goes
    to `log` when given."""
    port = port or free_port()
    command = [sys.executable, "-m", "posegen", "serve", "--port", str(port)]
    output = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        command if worker else [*command, "--no-worker"],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + within
        while True:
            try:
                if httpx.get(f"{url}/api/apps/pose-generator/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the API process exited"
            assert time.monotonic() < deadline, "the API process did not start"
            time.sleep(0.2)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if not isinstance(output, int):
            output.close()


@contextmanager
def api_process(env: dict[str, str]) -> Iterator[str]:
    """`posegen serve --no-worker` on a free port; its base URL once it answers."""
    with api_server(env) as (url, _pid):
        yield url
