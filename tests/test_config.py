"""Settings: environment names, production secret rules, the generated secret."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from posegen.auth.tokens import SECRET_FILE, resolve_secret
from posegen.config import BootstrapSettings, Environment, Settings
from posegen.config_doc import README, START, render


def test_nested_groups_read_from_single_underscore_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSEGEN_DATA_DIR", "/srv/posegen")
    monkeypatch.setenv("POSEGEN_DATABASE_URL", "postgresql://db/posegen")
    monkeypatch.setenv("POSEGEN_SERVER_PORT", "9000")
    monkeypatch.setenv("POSEGEN_SERVER_ALLOWED_ORIGINS", '["https://app.example.com"]')
    monkeypatch.setenv("POSEGEN_AUTH_TOKEN_TTL_SECONDS", "3600")
    monkeypatch.setenv("POSEGEN_BOOTSTRAP_ADMIN_EMAIL", "root@example.com")
    monkeypatch.setenv("POSEGEN_BOOTSTRAP_ADMIN_PASSWORD", "a long admin password")
    settings = Settings()
    assert settings.data_dir == Path("/srv/posegen")
    assert settings.database_url == "postgresql://db/posegen"
    assert settings.server.port == 9000
    assert settings.server.allowed_origins == ["https://app.example.com"]
    assert settings.auth.token_ttl_seconds == 3600
    assert settings.bootstrap.admin_email == "root@example.com"
    assert settings.bootstrap.admin_password is not None
    assert "a long admin password" not in repr(settings)


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'posegen.db'}"


def test_production_refuses_to_start_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSEGEN_ENV", "production")
    monkeypatch.delenv("POSEGEN_AUTH_JWT_SECRET", raising=False)
    with pytest.raises(ValidationError, match="required when POSEGEN_ENV=production"):
        Settings()
    monkeypatch.setenv("POSEGEN_AUTH_JWT_SECRET", "too-short")
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings()
    monkeypatch.setenv("POSEGEN_AUTH_JWT_SECRET", "s" * 48)
    assert Settings().env is Environment.PRODUCTION


def test_bootstrap_needs_both_email_and_password() -> None:
    with pytest.raises(ValidationError, match="or neither"):
        BootstrapSettings(admin_email="root@example.com")


def test_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = resolve_secret(settings)
    assert len(first) >= 32
    assert resolve_secret(settings) == first
    path = tmp_path / SECRET_FILE
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_FILE]


def test_every_setting_is_described() -> None:
    def walk(model: type[object], prefix: str) -> list[str]:
        missing = []
        for name, field in model.model_fields.items():  # type: ignore[attr-defined]
            if not field.description:
                missing.append(prefix + name)
            annotation = field.annotation
            if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
                missing += walk(annotation, f"{prefix}{name}.")
        return missing

    assert walk(Settings, "") == []


def test_readme_configuration_table_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert START in text
    assert render(text) == text, "run `python -m posegen.config_doc` to refresh README.md"
