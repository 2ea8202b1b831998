"""Settings: the old system's Redis variables are honoured, said so once, and never lead to a
local server standing in for a configured remote one."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aibox.settings import LEGACY_REDIS_VARIABLES, Settings, get_settings, redacted
from tests.support import ROOT, free_port, pings, run_aibox


@pytest.fixture
def old_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No AIBOX_REDIS_URL or broker URL (the tests set them), no old variables, no .env."""
    for name in ("AIBOX_REDIS_URL", "AIBOX_BROKER_URL", "AIBOX_RESULT_BACKEND_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in LEGACY_REDIS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield
    get_settings.cache_clear()


def test_redis_url_comes_from_the_old_variables_when_aibox_redis_url_is_unset(
    old_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings().redis_url == "redis://127.0.0.1:6379/0"
    assert Settings().redis_url_from is None
    monkeypatch.setenv("REDIS_HOST", "redis.internal")
    monkeypatch.setenv("REDIS_PORT", "6380")
    monkeypatch.setenv("REDIS_DB", "2")
    monkeypatch.setenv("REDIS_PASSWORD", "p@ss:w rd")
    settings = Settings()
    assert settings.redis_url == "redis://:p%40ss%3Aw%20rd@redis.internal:6380/2"
    assert settings.redis_url_from == "REDIS_HOST/REDIS_PORT/REDIS_DB/REDIS_PASSWORD"
    assert settings.broker == settings.result_backend == settings.redis_url
    assert not settings.redis_is_local()
    monkeypatch.setenv("REDIS_URL", "redis://other:6379/1")
    assert Settings().redis_url == "redis://other:6379/1"  # REDIS_URL before the parts
    assert Settings().redis_url_from == "REDIS_URL"
    monkeypatch.setenv("AIBOX_REDIS_URL", "redis://mine:6379/0")
    assert Settings().redis_url == "redis://mine:6379/0"  # aibox's own setting wins
    assert Settings().redis_url_from is None


def test_an_old_dotenv_file_is_read_and_the_choice_is_said_once(
    old_environment: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / ".env").write_text("REDIS_HOST=127.0.0.1\nREDIS_PORT=7001\nREDIS_PASSWORD=s3cret\n")
    get_settings.cache_clear()
    with caplog.at_level(logging.WARNING, logger="aibox.settings"):
        assert get_settings().redis_url == "redis://:s3cret@127.0.0.1:7001/0"
        get_settings()
    warnings = [r.getMessage() for r in caplog.records if r.name == "aibox.settings"]
    assert warnings == [
        "AIBOX_REDIS_URL is not set: using the old system's REDIS_HOST/REDIS_PORT/REDIS_PASSWORD "
        "(redis://:***@127.0.0.1:7001/0); set AIBOX_REDIS_URL to silence this"
    ]
    assert "s3cret" not in warnings[0]
    assert redacted("redis://u:pw@h:1/0") == "redis://u:***@h:1/0"


def test_a_command_uses_an_old_dotenv_pointing_at_a_running_server(
    redis_client: object, redis_server: int, tmp_path: Path
) -> None:
    """`aibox users list` in a directory whose .env has only the old variables, aimed at the
    tests' server: it lists the account stored there, and says where the URL came from."""
    from aibox.services import user_store

    user_store().add("from-old-env", "a-long-enough-password", role="user")
    (tmp_path / ".env").write_text(f"REDIS_HOST=127.0.0.1\nREDIS_PORT={redis_server}\nREDIS_DB=0\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIBOX_REDIS")}
    env.pop("AIBOX_BROKER_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "aibox.cli", "users", "list"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "from-old-env" in result.stdout
    assert "using the old system's REDIS_HOST/REDIS_PORT/REDIS_DB" in result.stderr
    assert f"(redis://127.0.0.1:{redis_server}/0)" in result.stderr


def test_up_never_starts_a_local_server_for_an_unreachable_configured_one(
    tmp_path: Path,
) -> None:
    """REDIS_HOST names another host (127.0.0.2: loopback, but not this configuration's
    local address) where nothing answers: an error, and no embedded server anywhere."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIBOX_REDIS")}
    env.pop("AIBOX_BROKER_URL", None)
    env.update(
        REDIS_HOST="127.0.0.2",
        REDIS_PORT=str(port),
        AIBOX_VAR_DIR=str(tmp_path / "var"),
        AIBOX_ENVIRONMENT="development",
    )
    result = run_aibox("up", env=env)
    assert result.returncode == 1
    assert f"Redis at redis://127.0.0.2:{port}/0 is unreachable and not local" in result.stdout
    assert not (tmp_path / "var" / "redis").exists()
    assert not pings(port)
