"""The default CORS and WebSocket origin allow-list follows the address the server listens on."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from posegen.config import ServerSettings, Settings, listening_origins
from posegen.db import Database
from tests.fixtures.app import make_settings, token_for
from tests.fixtures.factories import create_user
from tests.realtime.live import receive
from tests.work.processes import api_server, free_port, process_env

P = "/api/apps/pose-generator"


@pytest.mark.parametrize(
    ("host", "port", "origins"),
    [
        ("127.0.0.1", 8021, ["http://localhost:8021", "http://127.0.0.1:8021", "http://[::1]:8021"]),
        ("localhost", 9000, ["http://localhost:9000", "http://127.0.0.1:9000", "http://[::1]:9000"]),
        ("::1", 8000, ["http://localhost:8000", "http://127.0.0.1:8000", "http://[::1]:8000"]),
        ("0.0.0.0", 8080, ["http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:8080"]),  # noqa: S104
        ("api.example.com", 80, ["http://api.example.com"]),  # browsers leave port 80 out
        ("10.1.2.3", 8443, ["http://10.1.2.3:8443"]),
        ("fd00::5", 8000, ["http://[fd00::5]:8000"]),
    ],
)
def test_default_origins_are_those_of_the_listening_address(host: str, port: int, origins: list[str]) -> None:
    assert sorted(listening_origins(host, port)) == sorted(origins)
    settings = Settings(server=ServerSettings(host=host, port=port))
    assert sorted(settings.allowed_origins) == sorted(origins)


def test_an_explicit_allow_list_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSEGEN_SERVER_ALLOWED_ORIGINS", '["https://app.example.com"]')
    monkeypatch.setenv("POSEGEN_SERVER_PORT", "8021")
    assert Settings().allowed_origins == ["https://app.example.com"]


async def close_code(url: str, origin: str) -> int | None:
    try:
        async with connect(url, additional_headers={"Origin": origin}) as ws:
            await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None
    return None


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_browser_on_the_real_port_is_let_in_under_every_loopback_name(
    db: Database, database_url: str, data_dir: Path
) -> None:
    user = await create_user(db)
    token = token_for(make_settings(database_url, data_dir), user)
    port = free_port()  # not 8000: the old fixed list named only 8000
    with api_server(process_env(database_url, data_dir), port, within=30) as (url, _pid):
        async with httpx.AsyncClient(base_url=url) as http:
            ws_url = f"ws://127.0.0.1:{port}{P}/ws"
            for origin in (f"http://localhost:{port}", f"http://127.0.0.1:{port}", f"http://[::1]:{port}"):
                async with connect(ws_url, additional_headers={"Origin": origin}) as ws:
                    await ws.send(json.dumps({"type": "auth", "token": token}))
                    assert (await receive(ws))["type"] == "connected", origin

                preflight = await http.options(
                    "/api/auth/me",
                    headers={
                        "Origin": origin,
                        "Access-Control-Request-Method": "GET",
                        "Access-Control-Request-Headers": "authorization",
                    },
                )
                assert preflight.status_code == 200, (origin, preflight.text)
                assert preflight.headers["access-control-allow-origin"] == origin
                me = await http.get(
                    "/api/auth/me", headers={"Origin": origin, "Authorization": f"Bearer {token}"}
                )
                assert me.status_code == 200 and me.headers["access-control-allow-origin"] == origin

            for stranger in ("http://localhost:8000", "https://evil.example.com"):
                assert await close_code(ws_url, stranger) == 4403, stranger
                refused = await http.options(
                    "/api/auth/me",
                    headers={"Origin": stranger, "Access-Control-Request-Method": "GET"},
                )
                # Refused in the error envelope (observability/http_policy.py), with no allow header.
                assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
                assert refused.json()["error"]["code"] == "FORBIDDEN"
