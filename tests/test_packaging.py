"""The built wheel, installed as a container image would, runs every process command.

The wheel is built and installed once per module into a fresh virtualenv, without extras and
without dev tools. Each database then gets an empty database and data directory, and every
command runs as that virtualenv's own `posegen` executable with a clean environment (no
PYTHONPATH, the working directory outside the repository), so nothing from the source tree
can stand in for what the wheel lacks: migrations, templates, undeclared imports.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.script import ScriptDirectory
from PIL import Image

from posegen import migrate
from tests.fixtures.databases import fresh_database_url
from tests.test_cli import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
P = "/api/apps/pose-generator"
# Distributions only the `dev` extra brings; none may reach a plain install.
DEV_ONLY = ("pytest", "pytest-asyncio", "hypothesis", "httpx", "ruff", "mypy", "moto")
# Files the package reads at run time besides its modules.
PACKAGE_DATA = (
    "posegen/migrations/env.py",
    "posegen/migrations/script.py.mako",
    "posegen/web/templates/base.html",
    "posegen/web/messages/en.toml",
    "posegen/web/messages/id.toml",
    "posegen/web/static/js/api.js",
    "posegen/web/static/css/app.css",
    "posegen/engines/comfyui/default_workflow.json",
)


@dataclass(frozen=True)
class Installed:
    wheel: Path
    bin: Path

    @property
    def posegen(self) -> str:
        return str(self.bin / "posegen")


def _pip_env() -> dict[str, str]:
    """This machine's environment minus anything that points Python at the source tree; pip keeps
    its configuration (index mirror, find-links, constraints, cache) from HOME, /etc and PIP_*."""
    hidden = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    return {key: value for key, value in os.environ.items() if key not in hidden}


def _check(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        args, cwd=cwd, env=_pip_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args}: {done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("packaging")
    wheelhouse = root / "wheels"
    _check(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheelhouse), str(REPO)], root
    )
    (wheel,) = wheelhouse.glob("posegen-*.whl")
    venv = root / "venv"
    _check([sys.executable, "-m", "venv", str(venv)], root)
    # The wheel file itself, no extras: what `pip install .` gives a container image.
    _check([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], root, timeout=600)
    return Installed(wheel, venv / "bin")


def test_the_wheel_carries_the_migrations_templates_and_web_assets(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    for name in PACKAGE_DATA:
        assert name in names
    shipped = {name.rsplit("/", 1)[1] for name in names if name.startswith("posegen/migrations/versions/")}
    in_tree = {path.name for path in (migrate.SCRIPT_LOCATION / "versions").glob("*.py")}
    assert shipped == in_tree and in_tree


def test_no_dev_tool_and_every_module_imports(installed: Installed, tmp_path: Path) -> None:
    listed = _check([str(installed.bin / "python"), "-m", "pip", "list", "--format=freeze"], tmp_path)
    names = {line.split("==")[0].lower() for line in listed.stdout.splitlines()}
    assert names.isdisjoint(DEV_ONLY), names & set(DEV_ONLY)
    assert "httpx2" in names
    # Every module of the installed package imports with only the declared dependencies (a module
    # importing an undeclared one fails here even if no command below happens to load it).
    walk = (
        "import importlib, pkgutil, posegen\n"
        "for module in pkgutil.walk_packages(posegen.__path__, 'posegen.'):\n"
        "    if module.name != 'posegen.__main__':\n"
        "        importlib.import_module(module.name)\n"
        "print(posegen.__file__)\n"
    )
    where = _check([str(installed.bin / "python"), "-I", "-c", walk], tmp_path).stdout.strip()
    assert where.startswith(str(installed.bin.parent)), where


def _posegen_env(installed: Installed, database_url: str, data_dir: Path) -> dict[str, str]:
    """What a container sets: the service's own variables and nothing from this test process."""
    return {
        "PATH": f"{installed.bin}:/usr/bin:/bin",
        "HOME": str(data_dir.parent),
        "LANG": "C.UTF-8",
        "POSEGEN_ENV": "production",
        "POSEGEN_AUTH_JWT_SECRET": secrets.token_urlsafe(48),
        "POSEGEN_DATABASE_URL": database_url,
        "POSEGEN_DATA_DIR": str(data_dir),
        "POSEGEN_WORK_POLL_INTERVAL_SECONDS": "0.2",
        # Off by default in production; on here so the wheel's own /docs assets are checked.
        "POSEGEN_SERVER_PUBLIC_DOCS": "true",
    }


class Host:
    """Runs the installed `posegen` in its clean environment, from a directory outside the repo."""

    def __init__(self, installed: Installed, env: dict[str, str], cwd: Path) -> None:
        self.installed, self.env, self.cwd = installed, env, cwd

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.installed.posegen, *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, f"posegen {' '.join(args)}: {done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done

    @contextmanager
    def process(
        self, name: str, *args: str, clean_exits: frozenset[int] = frozenset({0})
    ) -> Iterator[tuple[subprocess.Popen[str], Path]]:
        """A long-running `posegen` process writing to a log file; stopped with SIGTERM after the block,
        which must end it cleanly (an exit status in `clean_exits`) within 30 s."""
        log = self.cwd / f"{name}.log"
        with log.open("w") as sink:
            child = subprocess.Popen(
                [self.installed.posegen, *args],
                cwd=self.cwd,
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                text=True,
            )
            try:
                yield child, log
            finally:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
                try:
                    code = child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()
                    raise
        assert code in clean_exits, f"{name} exited {code}: {log.read_text()[-3000:]}"


@asynccontextmanager
async def started_server(host: Host) -> AsyncIterator[httpx.AsyncClient]:
    port = free_port()
    # A clean shutdown on SIGTERM exits 0 (posegen.serving does not re-raise the signal as uvicorn does).
    args = ("serve", "--port", str(port), "--no-worker")
    with host.process("serve", *args) as (server, log):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    health = await client.get(f"{P}/health")
                    break
                except httpx.TransportError:
                    assert server.poll() is None, f"serve exited: {log.read_text()[-3000:]}"
                    assert time.monotonic() < deadline, "serve did not answer within 60 s"
                    await asyncio.sleep(0.25)
            assert health.status_code == 200, health.text
            assert health.json()["status"] == "healthy"
            yield client
    assert '"Application shutdown complete."' in log.read_text()


async def until_finished(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while True:
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        generation: dict[str, Any] = response.json()["generation"]
        if generation["status"] not in ("queued", "processing"):
            return generation
        assert time.monotonic() < deadline, f"still {generation['status']} after 90 s"
        await asyncio.sleep(0.5)


async def test_installed_posegen_migrates_seeds_serves_and_works(
    installed: Installed, backend: str, tmp_path: Path
) -> None:
    outside = tmp_path / "host"  # the working directory: nothing of the repository in reach
    outside.mkdir()
    async with fresh_database_url(backend, tmp_path) as database_url:
        host = Host(installed, _posegen_env(installed, database_url, outside / "data"), outside)

        assert "database at head" in host.run("migrate").stdout
        head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
        assert head is not None and f"{head} (head)" in host.run("alembic", "current").stdout

        seeded = re.search(r"poses: (\d+) created", host.run("seed").stdout)
        assert seeded and int(seeded.group(1)) > 0

        async with started_server(host) as client:
            # The API console from the installed wheel alone: its assets are in the package.
            assert (await client.get("/docs")).status_code == 200
            bundle = await client.get("/docs-assets/swagger-ui-bundle.js")
            assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
            # The web app too: its templates, catalogues and scripts come from the package.
            signin = await client.get("/signin", headers={"Accept-Language": "id"})
            assert signin.status_code == 200 and "Buat akun" in signin.text, signin.text[:500]
            script = re.search(r'src="(/static/[0-9a-f]+/js/pages/signin\.js)"', signin.text)
            assert script is not None
            module = await client.get(script.group(1))
            assert module.status_code == 200 and "javascript" in module.headers["content-type"]
            email = f"installed-{secrets.token_hex(3)}@example.com"
            registered = await client.post(
                "/api/auth/register", json={"email": email, "password": "installed password", "name": "Ines"}
            )
            assert registered.status_code == 201, registered.text
            headers = {"Authorization": f"Bearer {registered.json()['token']}"}
            granted = host.run("credits", "grant", email, "100", "--reason", "packaging test")
            assert "balance 100" in granted.stdout

            project = await client.post(f"{P}/projects", json={"projectName": "Installed"}, headers=headers)
            assert project.status_code == 201, project.text
            library = await client.get(f"{P}/library", params={"limit": 50}, headers=headers)
            assert library.status_code == 200, library.text
            pose = next(pose for pose in library.json()["poses"] if not pose["isPremium"])
            body = {
                "projectId": project.json()["project"]["id"],
                "generationType": "GALLERY_REFERENCE",
                "selectedPoseIds": [pose["id"]],
                "batchSize": 1,
                "quality": "draft",
            }
            accepted = await client.post(f"{P}/generate", json=body, headers=headers)
            assert accepted.status_code == 202, accepted.text
            url = f"{P}/generations/{accepted.json()['generationId']}"

            # The server runs no worker: the standalone one from the wheel must render the pose.
            with host.process("worker", "worker") as (_, worker_log):
                generation = await until_finished(client, url, headers)
            assert generation["status"] == "completed", generation
            assert '"worker_started"' in worker_log.read_text()
            (rendered,) = generation["poses"]
            assert rendered["status"] == "completed"
            image = await client.get(rendered["imageUrl"])
            assert image.status_code == 200
            with Image.open(io.BytesIO(image.content)) as decoded:
                assert decoded.size == (512, 512)  # draft quality
