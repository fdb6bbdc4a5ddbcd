"""Upload memory: peak RSS of one `posegen serve` process while 8 clients upload a 39.7-megapixel PNG.

Run: ``.venv/bin/python benchmarks/upload_memory.py``; prints one JSON object. Options:
``--database sqlite`` (default ``postgresql``, at ``POSEGEN_BENCH_POSTGRES_URL``), ``--uploads N``
(concurrent uploads, default 8), ``--side S`` (the PNG is S × S, default 6300: 39.69 MP, under the
40 MP limit), ``--rounds R`` (the 8 uploads are sent R times, one round after the other, default 2:
the second round shows whether memory freed by the first is reused rather than added to).

The file is what issue 9 measured: an RGB PNG of one colour with a few stripes, built row by row
with zlib (about 130 KB), so the cost is all in the server's decode and re-encode. One `posegen serve
--no-worker` process runs on a throwaway database. On SQLite each upload request holds the write
lock from its first query, so uploads there run one at a time; PostgreSQL runs them at once. A
user registers over HTTP; one small upload warms the process up (imports, Pillow's plugins, the
thread pool), then its VmRSS is the baseline. The R rounds of N concurrent ``POST /uploads`` follow
while a thread reads the server's VmRSS from ``/proc/<pid>/status`` every 5 ms; VmHWM (the kernel's
own peak) is read at the end as well. Figures: peak RSS growth (max of the samples and of VmHWM,
minus the baseline), every answer's status, and that each 503 carries ``Retry-After``.
Target (issue 9): growth < 1 GiB; every answer 201 or 503.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from _setup import (
    ROOT,
    SECRET,
    metadata,
    postgres_database,
    quiet_logging,
    rss_kib,
    run_benchmark,
    scratch_directory,
    sqlite_database,
)

P = "/api/apps/pose-generator"
TARGET_GROWTH_KIB = 1024 * 1024
SAMPLE_S = 0.005


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def striped_png(side: int) -> bytes:
    """An RGB PNG of `side` × `side`: one colour with a stripe every 700 rows, compressed row by row."""
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    plain = b"\x00" + bytes((40, 120, 200)) * side
    stripe = b"\x00" + bytes((230, 90, 20)) * side
    compressor = zlib.compressobj(6)
    body = b"".join(compressor.compress(stripe if y % 700 < 4 else plain) for y in range(side))
    body += compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def small_png() -> bytes:
    return striped_png(64)


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


class Sampler(threading.Thread):
    """Reads a process's VmRSS every few milliseconds until stopped; keeps the maximum."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            self.samples += 1
            time.sleep(SAMPLE_S)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def start_server(database_url: str, data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("POSEGEN_")}
    env.update(
        POSEGEN_ENV="test",
        POSEGEN_DATABASE_URL=database_url,
        POSEGEN_DATA_DIR=str(data_dir),
        POSEGEN_AUTH_JWT_SECRET=SECRET,
        POSEGEN_LOG_LEVEL="WARNING",
    )
    with log.open("wb") as handle:
        # Fixed arguments, no shell: this interpreter running posegen itself.
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "posegen", "serve", "--no-worker", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wait_healthy(client: httpx.AsyncClient, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if (await client.get(f"{P}/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise RuntimeError("the server exited")
        if time.monotonic() > deadline:
            raise TimeoutError("the server did not start")
        await asyncio.sleep(0.2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def measure(scratch: Path, database: str, uploads: int, side: int, rounds: int) -> dict[str, Any]:
    started = time.perf_counter()
    big = striped_png(side)
    build_s = time.perf_counter() - started
    async with postgres_database() if database == "postgresql" else sqlite_database(scratch) as url:
        port = free_port()
        process = start_server(url, scratch / "data", port, scratch / "server.log")
        try:
            timeout = httpx.Timeout(300, connect=10)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=timeout) as client:
                await wait_healthy(client, process)
                account = {
                    "email": f"bench-{secrets.token_hex(4)}@example.com",
                    "password": "benchmark password 1",
                    "name": "Bench",
                }
                registered = await client.post("/api/auth/register", json=account)
                registered.raise_for_status()
                headers = {"Authorization": f"Bearer {registered.json()['token']}"}
                warm = await client.post(
                    f"{P}/uploads", files={"file": ("w.png", small_png(), "image/png")}, headers=headers
                )
                warm.raise_for_status()
                await asyncio.sleep(0.5)
                baseline = rss_kib(process.pid)
                hwm_before = status_kib(process.pid, "VmHWM")
                sampler = Sampler(process.pid)
                sampler.start()
                answers: list[httpx.Response] = []
                round_s: list[float] = []
                try:
                    for _ in range(rounds):
                        began = time.perf_counter()
                        answers += await asyncio.gather(
                            *(
                                client.post(
                                    f"{P}/uploads",
                                    files={"file": ("big.png", big, "image/png")},
                                    headers=headers,
                                )
                                for _ in range(uploads)
                            )
                        )
                        round_s.append(round(time.perf_counter() - began, 2))
                finally:
                    sampler.stop()
                hwm_after = status_kib(process.pid, "VmHWM")
                rss_after = rss_kib(process.pid)
        finally:
            stop_server(process)
    statuses = Counter(response.status_code for response in answers)
    unavailable = [response for response in answers if response.status_code == 503]
    peak = max(sampler.peak, hwm_after)
    growth = peak - baseline
    allowed = set(statuses) <= {201, 503}
    return {
        "database": database,
        "png": {"side": side, "megapixels": round(side * side / 1e6, 2), "bytes": len(big)},
        "png_build_s": round(build_s, 2),
        "uploads_per_round": uploads,
        "rounds": rounds,
        "round_s": round_s,
        "rss_kib_baseline": baseline,
        "rss_kib_peak_sampled": sampler.peak,
        "vm_hwm_kib_before": hwm_before,
        "vm_hwm_kib_after": hwm_after,
        "rss_kib_after": rss_after,
        "rss_samples": sampler.samples,
        "peak_growth_kib": growth,
        "peak_growth_mib": round(growth / 1024, 1),
        "target_growth_mib": TARGET_GROWTH_KIB // 1024,
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
        "retry_after_on_every_503": all("retry-after" in response.headers for response in unavailable),
        "pass": growth < TARGET_GROWTH_KIB
        and allowed
        and all("retry-after" in response.headers for response in unavailable),
    }


async def run(database: str, uploads: int, side: int, rounds: int) -> dict[str, Any]:
    started = time.perf_counter()
    quiet_logging()
    with scratch_directory() as scratch:
        result = await measure(scratch, database, uploads, side, rounds)
    return {
        "benchmark": "upload memory",
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        **metadata(),
        **result,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--uploads", type=int, default=8)
    parser.add_argument("--side", type=int, default=6300)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    return run_benchmark(lambda: run(args.database, args.uploads, args.side, args.rounds))


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
