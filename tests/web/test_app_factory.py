"""The application factory: configuration, secret key, definitions loaded once."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from priorauth.rules.loader import DefinitionError
from priorauth.web import create_app

FORMS = Path(__file__).resolve().parents[2] / "forms"


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "instance"
    monkeypatch.setenv("PRIORAUTH_INSTANCE_PATH", str(folder))
    for name in ("PRIORAUTH_SECRET_KEY", "PRIORAUTH_DATABASE_URL", "PRIORAUTH_FORMS_DIR"):
        monkeypatch.delenv(name, raising=False)
    return folder


def _dispose(app: object) -> None:
    app.extensions["priorauth"].engine.dispose()  # type: ignore[attr-defined]


def test_defaults_keep_the_database_and_a_generated_key_under_instance(instance: Path) -> None:
    app = create_app()
    try:
        assert app.config["PRIORAUTH_DATABASE_URL"] == f"sqlite:///{instance / 'priorauth.db'}"
        key_file = instance / "secret_key"
        assert key_file.read_text() == app.config["SECRET_KEY"]
        assert len(app.config["SECRET_KEY"]) >= 64
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["SESSION_COOKIE_HTTPONLY"] is True
        assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
        assert app.config["MAX_CONTENT_LENGTH"]
    finally:
        _dispose(app)
    again = create_app()
    try:
        assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]
    finally:
        _dispose(again)


def test_environment_settings_win(instance: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIORAUTH_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("PRIORAUTH_DATABASE_URL", f"sqlite:///{instance / 'other.db'}")
    app = create_app()
    try:
        assert app.config["SECRET_KEY"] == "from-the-environment"
        assert app.config["PRIORAUTH_DATABASE_URL"].endswith("other.db")
        assert not (instance / "secret_key").exists()
    finally:
        _dispose(app)


def test_the_definitions_are_loaded_once_at_start_up(instance: Path, tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    shutil.copytree(FORMS, forms)
    app = create_app({"PRIORAUTH_FORMS_DIR": str(forms)})
    try:
        library = app.extensions["priorauth"].library
        assert library.root == forms
        assert "cidp" in library.indications
    finally:
        _dispose(app)
    definition = forms / "indications" / "cidp" / "definition.toml"
    definition.write_text(
        definition.read_text().replace('fact = "disease_course"', 'fcat = "x"', 1)
    )
    with pytest.raises(DefinitionError):
        create_app({"PRIORAUTH_FORMS_DIR": str(forms)})
