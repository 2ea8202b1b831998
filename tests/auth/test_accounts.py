"""Accounts, password hashes, the signing secret and the `aibox users` commands."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
import redis
from pydantic import SecretStr

from aibox import keys
from aibox.auth.tokens import signing_secret
from aibox.auth.users import UserStore
from aibox.errors import ConfigurationError, ConflictError, InvalidAccountError
from aibox.settings import Settings
from tests.support import run_aibox


def test_passwords_are_stored_as_argon2id_and_checked(redis_client: redis.Redis) -> None:
    users = UserStore(redis_client)
    users.add("carol", "correct horse", role="admin")
    stored = redis_client.hget(keys.account("carol"), "password_hash")
    assert stored is not None
    assert str(stored).startswith("$argon2id$")
    assert "correct horse" not in str(redis_client.hgetall(keys.account("carol")))
    user = users.authenticate("carol", "correct horse")
    assert user is not None
    assert user.role == "admin"
    assert users.authenticate("carol", "wrong horse") is None
    assert users.authenticate("nobody", "correct horse") is None
    users.set_password("carol", "new password!")
    assert users.authenticate("carol", "correct horse") is None
    assert users.authenticate("carol", "new password!") is not None


def test_account_rules(redis_client: redis.Redis) -> None:
    users = UserStore(redis_client)
    users.add("dave", "long enough")
    with pytest.raises(ConflictError):
        users.add("dave", "long enough")
    for bad in ("Dave", "../x", "", "a b", "x" * 65):
        with pytest.raises(InvalidAccountError):
            users.add(bad, "long enough")
    with pytest.raises(InvalidAccountError, match="at least 8"):
        users.add("erin", "short")
    assert [u.user_id for u in users.all()] == ["dave"]
    users.remove("dave")
    assert users.get("dave") is None


def test_signing_secret_is_refused_when_missing_or_weak_outside_development(
    tmp_path: Path,
) -> None:
    for secret in ("", "changeme", "x" * 31):
        settings = Settings(environment="production", jwt_secret=SecretStr(secret))
        with pytest.raises(ConfigurationError, match="AIBOX_JWT_SECRET"):
            signing_secret(settings)
    strong = "s" * 48
    assert (
        signing_secret(Settings(environment="production", jwt_secret=SecretStr(strong))) == strong
    )


def test_development_generates_one_private_secret_and_keeps_it(tmp_path: Path) -> None:
    settings = Settings(environment="development", jwt_secret=SecretStr(""), var_dir=tmp_path)
    first = signing_secret(settings)
    assert len(first) >= 32
    path = tmp_path / "jwt-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing_secret(settings) == first


def test_users_cli_add_list_passwd_remove(redis_client: redis.Redis) -> None:
    def aibox(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return run_aibox("users", *args, stdin=stdin, env={**os.environ, "COLUMNS": "120"})

    added = aibox("add", "frank", "--role", "admin", "--password-stdin", stdin="frank-secret-1\n")
    assert added.returncode == 0, added.stderr
    assert "frank-secret-1" not in added.stdout + added.stderr
    users = UserStore(redis_client)
    assert users.authenticate("frank", "frank-secret-1") is not None
    again = aibox("add", "frank", "--password-stdin", stdin="frank-secret-1\n")
    assert again.returncode == 1
    assert "already exists" in again.stdout
    listed = aibox("list")
    assert "frank" in listed.stdout
    assert "admin" in listed.stdout
    changed = aibox("passwd", "frank", "--password-stdin", stdin="frank-secret-2\n")
    assert changed.returncode == 0
    assert users.authenticate("frank", "frank-secret-2") is not None
    assert aibox("remove", "frank").returncode == 0
    assert users.get("frank") is None
    assert aibox("remove", "frank").returncode == 1
