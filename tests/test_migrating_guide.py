"""MIGRATING.md stays true: every aibox command, setting, endpoint and key it names exists."""

from __future__ import annotations

import re

from typer.main import get_command

from aibox import keys
from aibox.api.main import app
from aibox.cli import cli
from aibox.settings import Settings
from tests.support import ROOT

GUIDE = (ROOT / "MIGRATING.md").read_text()


def test_every_aibox_command_in_the_guide_exists() -> None:
    commands = set(get_command(cli).commands)  # type: ignore[attr-defined]
    named = set(re.findall(r"`aibox ([a-z][a-z-]+)", GUIDE))
    assert named, "the guide names no command"
    assert named <= commands, named - commands


def test_every_setting_in_the_guide_exists() -> None:
    fields = {f"AIBOX_{name.upper()}" for name in Settings.model_fields}
    named = set(re.findall(r"AIBOX_[A-Z_]+[A-Z]", GUIDE))
    assert named <= fields, named - fields


def test_every_new_endpoint_in_the_guide_exists() -> None:
    paths = set(app.openapi()["paths"])
    rows = re.findall(r"^\| `(?:GET|POST|DELETE) ([^`?]+)", GUIDE, flags=re.M)
    named = (
        {"/api/v1" + path for path in rows}
        | {
            "/api/v1" + path
            for path in re.findall(r"`(?:GET|POST) (/[a-z0-9/{}_-]+)", GUIDE)
            if not path.startswith("/api/v1")
        }
        | set(re.findall(r"`(?:GET|POST) (/api/v1/[a-z0-9/{}_-]+)", GUIDE))
    )
    named = {re.sub(r"\{[a-z_]+\}", "{}", p) for p in named}
    known = {re.sub(r"\{[a-z_]+\}", "{}", p) for p in paths}
    assert named <= known, named - known


def test_every_aibox_key_pattern_in_the_guide_is_in_keys_py() -> None:
    source = (ROOT / "aibox" / "keys.py").read_text()
    for key in re.findall(r"`(aibox:[a-z:{}_.]+)", GUIDE):
        prefix = key.split("{")[0]
        assert prefix in source, key
    assert keys.migrated_rq_jobs() in GUIDE
