"""Workers on other hosts with no shared disk: the API and the workers keep uploads in S3.

Three "hosts" on this machine, each a process with a working and data directory of its own
(none can see another's files): the API, worker B and, later, worker C. They share only the
Redis server (databases of their own, not the session's) and a real S3 server (SeaweedFS).
Uploads of every supported format complete; search and the graph answer; delete removes the
object; a job whose worker is killed mid-run on B is finished by C; and no upload's bytes
are ever on any host's disk. The embedder is the fake OpenAI-compatible endpoint (the one
stand-in: no such remote service exists here), so a job can be held mid-run.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import redis
from celery import Celery

from aibox import keys
from aibox.auth.users import UserStore
from tests.fakes.embeddings_server import FakeEmbeddingsServer
from tests.support import ROOT, free_port, kill_whole_worker, wait_for

DATA = Path(__file__).resolve().parent / "data"
DATA_DB, BROKER_DB = 3, 4
USER, PASSWORD = "remote", "a-long-enough-password"


def documents() -> dict[str, bytes]:
    """One document of every format aibox reads."""
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerows([["name", "notes"], ["Ada Lovelace", "wrote the first program in London"]])
    return {
        "notes.md": (DATA / "english.md").read_bytes(),
        "manual.txt": (DATA / "traditional.txt").read_bytes(),
        "tutorial.html": (DATA / "docs" / "python-tutorial-appetite.html").read_bytes(),
        "tutorial.pdf": (DATA / "docs" / "python-tutorial-appetite.pdf").read_bytes(),
        "chapter.docx": (DATA / "docs" / "debian-reference-ch04.zh-tw.docx").read_bytes(),
        "people.csv": table.getvalue().encode(),
        "people.json": json.dumps({"people": [{"name": "Grace Hopper"}]}).encode(),
    }


@pytest.fixture
def hosts(
    redis_server: int, s3_server: Any, tmp_path: Path, spawn: Callable[..., Any]
) -> Iterator[dict[str, Any]]:
    """The environment every host shares (Redis, S3, embedder) and a way to start each."""
    endpoint = FakeEmbeddingsServer(dim=16).start()
    data = redis.Redis(port=redis_server, db=DATA_DB, decode_responses=True)
    broker = redis.Redis(port=redis_server, db=BROKER_DB)
    for client in (data, broker):
        client.flushdb()
    prefix = f"hosts-{os.urandom(4).hex()}"
    shared = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIBOX_")},
        **s3_server.settings(prefix=prefix),
        "AIBOX_ENVIRONMENT": "test",
        "AIBOX_JWT_SECRET": os.environ["AIBOX_JWT_SECRET"],
        "AIBOX_REDIS_URL": f"redis://127.0.0.1:{redis_server}/{DATA_DB}",
        "AIBOX_BROKER_URL": f"redis://127.0.0.1:{redis_server}/{BROKER_DB}",
        **endpoint.settings(),
        # Tight leases: a dead host's job comes back within 5 s.
        "AIBOX_VISIBILITY_TIMEOUT_S": "3",
        "AIBOX_LEASE_INTERVAL_S": "1",
        "AIBOX_RESTORE_SWEEP_INTERVAL_S": "1",
        "AIBOX_WORKER_SOFT_SHUTDOWN_TIMEOUT_S": "2",
        "REMAP_SIGTERM": "SIGQUIT",
        "PYTHONPATH": str(ROOT),
    }
    control = Celery(broker=shared["AIBOX_BROKER_URL"])

    def host(name: str) -> tuple[Path, dict[str, str]]:
        home = tmp_path / name
        (home / "var").mkdir(parents=True)
        return home, {**shared, "AIBOX_VAR_DIR": str(home / "var")}

    def start_api() -> str:
        home, env = host("api")
        port = free_port()
        with open(home / "api.log", "wb") as log:
            spawn(
                [sys.executable, "-m", "aibox.cli", "api", "--port", str(port)],
                cwd=home,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(f"{url}/health"), timeout=60, interval=0.2)
        return url

    def start_worker(name: str) -> tuple[subprocess.Popen[bytes], str]:
        home, env = host(name)
        node = f"{name}-{os.getpid()}@localhost"
        with open(home / "worker.log", "wb") as log:
            process = spawn(
                [
                    sys.executable,
                    "-m",
                    "aibox.cli",
                    "worker",
                    "-c",
                    "1",
                    "-n",
                    node,
                    "--without-gossip",
                    "--without-mingle",
                ],
                cwd=home,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(lambda: control.control.ping(destination=[node], timeout=0.5), timeout=60)
        return process, node

    try:
        yield {
            "api": start_api,
            "worker": start_worker,
            "users": UserStore(data),
            "endpoint": endpoint,
            "store": s3_server.content_store(prefix),
            "data": data,
            "homes": tmp_path,
        }
    finally:
        endpoint.release()
        endpoint.stop()
        for client in (data, broker):
            client.flushdb()
            client.close()
        control.close()


def test_api_and_workers_share_no_disk(hosts: dict[str, Any]) -> None:
    api = hosts["api"]()
    worker_b, node_b = hosts["worker"]("host-b")
    hosts["users"].add(USER, PASSWORD)
    token = httpx.post(
        f"{api}/api/v1/auth/token", data={"username": USER, "password": PASSWORD}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    docs = documents()

    def upload(name: str, content: bytes) -> dict[str, Any]:
        response = httpx.post(
            f"{api}/api/v1/files", files={"files": (name, content)}, headers=auth, timeout=60
        )
        assert response.status_code == 202, response.text
        return dict(response.json()["data"]["files"][0])

    def status(file_id: str) -> dict[str, Any]:
        return dict(httpx.get(f"{api}/api/v1/files/{file_id}/status", headers=auth).json()["data"])

    def ended(file_id: str) -> dict[str, Any] | None:
        now = status(file_id)
        return now if now["status"] in {"completed", "failed"} else None

    uploaded = {name: upload(name, content) for name, content in docs.items()}
    for name, item in uploaded.items():
        final = wait_for(lambda i=item: ended(i["file_id"]), timeout=120, interval=0.3)
        assert final["status"] == "completed", (name, final)
        assert hosts["store"].exists(f"{USER}/{item['file_id']}")

    hits = httpx.post(
        f"{api}/api/v1/search", json={"query": "Steve Jobs founded Apple", "k": 3}, headers=auth
    ).json()["data"]
    assert hits[0]["filename"] == "notes.md"
    entities = httpx.get(
        f"{api}/api/v1/graph/entities", params={"q": "Apple"}, headers=auth
    ).json()["data"]
    assert entities

    gone = uploaded["people.json"]
    assert httpx.delete(f"{api}/api/v1/files/{gone['file_id']}", headers=auth).status_code == 200
    assert not hosts["store"].exists(f"{USER}/{gone['file_id']}")

    # A job running on B when B dies is finished by C.
    hosts["endpoint"].hold()
    held = upload("held.md", b"# Held\n\nGrace Hopper worked at Harvard University.\n")
    hosts["endpoint"].wait_held(1, timeout=60)
    kill_whole_worker(worker_b)
    hosts["endpoint"].release()
    _, node_c = hosts["worker"]("host-c")
    final = wait_for(lambda: ended(held["file_id"]), timeout=120, interval=0.3)
    assert final["status"] == "completed", final
    job = httpx.get(f"{api}/api/v1/jobs/{held['job_id']}", headers=auth).json()["data"]
    assert job["state"] == "finished"
    assert hosts["data"].hget(keys.job(held["job_id"]), "worker") == node_c
    assert node_b != node_c

    # No host ever held an upload's bytes on its disk.
    digests = {hashlib.sha256(content).hexdigest() for content in docs.values()}
    for path in hosts["homes"].rglob("*"):
        if path.is_file() and path.suffix != ".log":
            assert hashlib.sha256(path.read_bytes()).hexdigest() not in digests, path


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
