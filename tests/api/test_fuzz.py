"""Schemathesis fuzzes every operation of the OpenAPI schema, authenticated as an admin:
no response may be a server error or disagree with the schema (status, headers, body)."""

from __future__ import annotations

import secrets

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection

from aibox.api.main import app
from aibox.auth import tokens
from aibox.services import user_store
from aibox.settings import get_settings

# Built from the app's own OpenAPI document; the requests then go straight into the app (ASGI).
schema = schemathesis.openapi.from_dict(app.openapi())
schema.app = app
# Logging out would revoke the token the other operations use; it has its own tests.
schema = schema.exclude(path="/api/v1/auth/logout")
#: The worker listings wait for Celery's broadcast replies: fewer examples, shorter waits.
WORKER_LISTINGS = ("/api/v1/workers", "/api/v1/rq/workers")
listings = schema.include(path=list(WORKER_LISTINGS))
schema = schema.exclude(path=list(WORKER_LISTINGS))


@pytest.fixture(scope="module")
def admin_token(redis_server: int) -> str:
    name = f"fuzz-{secrets.token_hex(4)}"
    user = user_store().add(name, secrets.token_urlsafe(16), role="admin")
    token, _ = tokens.issue(user, get_settings())
    return token


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=50,
    derandomize=True,  # the same examples every run: CI must not flake on a lucky draw
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case: schemathesis.Case, admin_token: str) -> None:
    excluded = []
    if case.media_type == "multipart/form-data":
        # Every multipart part is bytes: a file whose content is "401" is a valid file, not
        # an integer where a string was due, so "negative" multipart data is not negative.
        excluded.append(negative_data_rejection)
    case.call_and_validate(
        headers={"Authorization": f"Bearer {admin_token}"}, excluded_checks=excluded
    )


@pytest.mark.slow
@listings.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_worker_listings_conform_to_their_schema(case: schemathesis.Case, admin_token: str) -> None:
    """Each call waits its whole timeout for replies: a valid one (absent, or in (0, 5])
    becomes 0.1 s; invalid ones stay, to be refused."""
    try:
        timeout = float((case.query or {}).get("timeout", 1.0))  # a number, or its text
    except (TypeError, ValueError):
        timeout = -1.0
    if 0 < timeout <= 5:
        case.query = {**(case.query or {}), "timeout": 0.1}
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"})
