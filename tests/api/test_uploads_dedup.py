"""Duplicate uploads (same bytes, same user): reuse the file, or record a new version."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from aibox import keys
from aibox.api.deps import current_settings
from aibox.api.main import app
from aibox.services import job_registry
from aibox.settings import Settings, get_settings
from tests.api.test_files_e2e import upload, wait_until_done

USER = "local"
TEXT = b"# Report\n\nMarie Curie worked at the University of Paris.\n"


def post_files(api: TestClient, *docs: tuple[str, bytes]) -> Any:
    return api.post("/api/v1/files", files=[("files", (n, c, "text/markdown")) for n, c in docs])


def stored() -> set[str]:
    storage = get_settings().storage_path / USER
    return {p.name for p in storage.iterdir()} if storage.exists() else set()


@pytest.fixture
def new_version_policy() -> Iterator[None]:
    app.dependency_overrides[current_settings] = lambda: Settings(duplicate_policy="new_version")
    yield
    app.dependency_overrides.clear()


def test_reuse_returns_the_existing_file_and_queues_nothing(
    api: TestClient, redis_client: redis.Redis
) -> None:
    first = upload(api, "report.md", TEXT)
    wait_until_done(api, first["file_id"])
    before = stored()
    response = post_files(api, ("copy-of-report.md", TEXT))
    assert response.status_code == 202, response.text
    again = response.json()["data"]["files"][0]
    assert again["reused"] is True
    assert again["file_id"] == again["duplicate_of"] == first["file_id"]
    assert again["job_id"] == first["job_id"]
    assert again["status"] == "completed"
    assert again["version"] == 1
    assert again["filename"] == "copy-of-report.md"
    assert stored() == before  # no second copy of the bytes
    assert redis_client.zcard(keys.user_files(USER)) == 1
    assert [j.job_id for j in job_registry().jobs_of_file(first["file_id"])] == [first["job_id"]]
    legacy = api.post("/api/v1/files", files={"file": ("again.md", TEXT, "text/markdown")})
    assert legacy.status_code == 202
    assert legacy.json()["data"]["reused"] is True
    assert legacy.json()["message"] == "file already uploaded: reusing it"


def test_the_same_bytes_twice_in_one_request_reuse_the_first_file(
    api: TestClient, redis_client: redis.Redis
) -> None:
    """Within a request as across requests: the second copy is the first file, reused."""
    before = stored()
    response = post_files(api, ("a.md", TEXT), ("b.md", TEXT), ("c.md", TEXT + b"More.\n"))
    assert response.status_code == 202, response.text
    data = response.json()["data"]
    assert (data["accepted"], data["rejected"]) == (3, 0)
    first, second, third = data["files"]
    assert first["status"] == third["status"] == "queued"
    assert (first["reused"], second["reused"], third["reused"]) == (False, True, False)
    assert second["file_id"] == second["duplicate_of"] == first["file_id"]
    assert second["job_id"] == first["job_id"]
    assert second["filename"] == "b.md"
    assert len(stored()) == len(before) + 2  # one copy of the shared bytes
    assert redis_client.zcard(keys.user_files(USER)) == 2
    # Every id handed out answers; the second upload's record says what it became.
    for item in data["files"]:
        assert api.get(f"/api/v1/files/{item['file_id']}").status_code == 200
    progress = api.get(f"/api/v1/files/{second['upload_id']}/upload").json()["data"]
    assert progress["file_id"] == first["file_id"]
    assert progress["message"].startswith(f"same content as file {first['file_id']}")
    for done in (first, third):
        wait_until_done(api, done["file_id"])


def test_the_same_bytes_twice_in_one_request_make_two_versions_under_new_version(
    api: TestClient, redis_client: redis.Redis, new_version_policy: None
) -> None:
    response = post_files(api, ("a.md", TEXT), ("b.md", TEXT))
    assert response.status_code == 202, response.text
    first, second = response.json()["data"]["files"]
    assert (first["version"], second["version"]) == (1, 2)
    assert second["previous_version_id"] == first["file_id"]
    assert second["reused"] is False
    for done in (first, second):
        assert wait_until_done(api, done["file_id"])["status"] == "completed"


def test_another_users_identical_file_is_not_a_duplicate(
    api: TestClient, make_client: Callable[[str], TestClient]
) -> None:
    mine = upload(api, "report.md", TEXT)
    theirs = post_files(make_client("bob"), ("report.md", TEXT)).json()["data"]["files"][0]
    assert theirs["reused"] is False
    assert theirs["file_id"] != mine["file_id"]
    wait_until_done(api, mine["file_id"])


def test_a_deleted_file_is_not_reused(api: TestClient, redis_client: redis.Redis) -> None:
    first = upload(api, "report.md", TEXT)
    wait_until_done(api, first["file_id"])
    assert api.delete(f"/api/v1/files/{first['file_id']}").status_code == 200
    second = upload(api, "report.md", TEXT)
    assert second["file_id"] != first["file_id"]
    assert wait_until_done(api, second["file_id"])["status"] == "completed"
    assert redis_client.hget(keys.content_index(USER), second["sha256"]) == second["file_id"]


def test_new_version_policy_chains_versions_and_processes_each(
    api: TestClient, redis_client: redis.Redis, new_version_policy: None
) -> None:
    versions = []
    for _ in range(3):
        submitted = post_files(api, ("report.md", TEXT)).json()["data"]["files"][0]
        assert submitted["status"] == "queued"
        assert submitted["reused"] is False
        assert wait_until_done(api, submitted["file_id"])["status"] == "completed"
        versions.append(submitted)
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert [v["previous_version_id"] for v in versions] == [
        None,
        versions[0]["file_id"],
        versions[1]["file_id"],
    ]
    assert len({v["job_id"] for v in versions}) == 3
    latest = api.get(f"/api/v1/files/{versions[2]['file_id']}").json()["data"]
    assert (latest["version"], latest["previous_version_id"]) == (3, versions[1]["file_id"])
    assert redis_client.hget(keys.content_index(USER), latest["sha256"]) == latest["file_id"]
