"""Authentication: tokens, logout, and every path refusing another user's files."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import redis
from fastapi.testclient import TestClient

from aibox import keys
from aibox.auth import tokens
from aibox.settings import get_settings
from tests.api.test_files_e2e import DATA, upload, wait_until_done


def test_login_me_and_wrong_credentials(make_client: Callable[..., TestClient]) -> None:
    alice = make_client("alice")
    me = alice.get("/api/v1/auth/me").json()["data"]
    assert me == {"user_id": "alice", "role": "user"}
    for form in (
        {"username": "alice", "password": "wrong-password"},
        {"username": "nobody", "password": "wrong-password"},
    ):
        response = alice.post("/api/v1/auth/token", data=form)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        body = response.json()
        assert body["success"] is False
        assert body["code"] == "unauthorized"
        assert body["message"] == "wrong username or password"  # same for both: no user probing


def test_requests_without_a_valid_token_are_401(api: TestClient) -> None:
    token = api.headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, options={"verify_signature": False})
    secret = tokens.signing_secret(get_settings())
    expired = jwt.encode(
        {**claims, "iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600},
        secret,
        algorithm="HS256",
    )
    forged = jwt.encode({**claims, "role": "admin"}, "another-secret-" * 4, algorithm="HS256")
    for headers in (
        {"Authorization": ""},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": f"Bearer {forged}"},
    ):
        response = api.get("/api/v1/files", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["code"] == "unauthorized"
    assert (
        "expired"
        in api.get("/api/v1/files", headers={"Authorization": f"Bearer {expired}"}).json()[
            "message"
        ]
    )


def test_logout_blacklists_the_token_for_its_remaining_life(
    make_client: Callable[..., TestClient], redis_client: redis.Redis
) -> None:
    alice = make_client("alice")
    token = alice.headers["Authorization"].removeprefix("Bearer ")
    assert alice.post("/api/v1/auth/logout").status_code == 200
    key = keys.jwt_blacklist(tokens.token_hash(token))
    assert 0 < redis_client.ttl(key) <= get_settings().access_token_ttl_s
    assert token not in str(redis_client.get(key))  # the token itself is never stored
    response = alice.get("/api/v1/files")
    assert response.status_code == 401
    assert "logged out" in response.json()["message"]
    # Another token of the same user still works.
    other = make_client("bob")
    assert other.get("/api/v1/files").status_code == 200


def test_another_users_files_jobs_and_graph_answer_404(
    make_client: Callable[..., TestClient],
) -> None:
    alice = make_client("alice")
    bob = make_client("bob")
    submitted = upload(alice, "english.md", (DATA / "english.md").read_bytes())
    assert wait_until_done(alice, submitted["file_id"])["status"] == "completed"
    file_id, job_id = submitted["file_id"], submitted["job_id"]
    apple = next(
        e
        for e in alice.get("/api/v1/graph/entities", params={"q": "apple"}).json()["data"]
        if e["name"].startswith("Apple")
    )
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"/api/v1/files/{file_id}", {}),
        ("GET", f"/api/v1/files/{file_id}/status", {}),
        ("GET", f"/api/v1/files/{file_id}/chunks", {}),
        ("GET", f"/api/v1/files/{file_id}/graph", {}),
        ("POST", f"/api/v1/files/{file_id}/regenerate", {"json": {"type": "graph"}}),
        ("DELETE", f"/api/v1/files/{file_id}", {}),
        ("GET", f"/api/v1/jobs/{job_id}", {}),
        ("POST", "/api/v1/search", {"json": {"query": "Apple", "file_ids": [file_id]}}),
        ("GET", f"/api/v1/graph/entities/{apple['id']}/neighbors", {}),
    ]
    for method, path, kwargs in attempts:
        response = bob.request(method, path, **kwargs)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["code"] == "not_found"
    # Bob's own views are empty: nothing of Alice's leaks into listings, search or the graph.
    assert bob.get("/api/v1/files").json()["data"] == []
    assert bob.post("/api/v1/search", json={"query": "Apple"}).json()["data"] == []
    assert bob.get("/api/v1/graph/entities", params={"q": "apple"}).json()["data"] == []
    # And Alice still has everything.
    assert alice.get(f"/api/v1/files/{file_id}").status_code == 200
