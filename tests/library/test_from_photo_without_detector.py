"""Without the `vision` extra, `POST /poses/from-photo` answers 503 POSE_DETECTION_UNAVAILABLE in the
error envelope, and the rest of the service works on. mediapipe is made unimportable in a child
process (as tests/vision/test_extra.py does), so nothing in this process is patched."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import asyncio, json, sys
sys.modules["mediapipe"] = None
from pathlib import Path
from posegen import migrate
from posegen.app import create_app
from posegen.db import create_engine
from tests.fixtures.app import bearer, make_settings, open_client, token_for
from tests.fixtures.factories import create_user
from tests.library.photos import person_photo

P = "/api/apps/pose-generator"


async def main(directory: Path) -> dict[str, object]:
    url = f"sqlite:///{directory / 'posegen.db'}"
    engine = create_engine(url)
    await migrate.upgrade(engine)
    await engine.dispose()
    settings = make_settings(url, directory)
    app = create_app(settings, embed_worker=False)
    async for client in open_client(app):
        user = await create_user(app.state.services.db)
        headers = bearer(token_for(settings, user))
        uploaded = await client.post(
            f"{P}/uploads", files={"file": ("p.png", person_photo(), "image/png")}, headers=headers
        )
        upload_id = uploaded.json()["upload"]["id"]
        answer = await client.post(f"{P}/poses/from-photo", json={"uploadId": upload_id}, headers=headers)
        library = await client.get(f"{P}/library", headers=headers)
        return {"status": answer.status_code, "body": answer.json(), "library": library.status_code}
    raise AssertionError("no client")


print(json.dumps(asyncio.run(main(Path(sys.argv[1])))))
"""


def test_without_the_detector_from_photo_is_503_in_the_envelope(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 503
    error = result["body"]["error"]
    assert (error["code"], error["statusCode"]) == ("POSE_DETECTION_UNAVAILABLE", 503)
    assert "vision" in error["message"]
    assert result["body"]["success"] is False
    assert result["library"] == 200
