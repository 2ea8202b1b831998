"""Log in (OAuth2 password flow) and out; who am I."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from aibox.api.deps import BearerToken, Claims, CurrentUser, SettingsDep
from aibox.api.schemas import Envelope, TokenPublic, UserPublic
from aibox.auth import tokens
from aibox.connections import get_redis
from aibox.errors import AuthenticationError
from aibox.services import user_store

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenPublic)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], settings: SettingsDep
) -> dict[str, Any]:
    """Exchange a username and password for a bearer token (OAuth2 password flow).

    The reply has OAuth2's top-level ``access_token`` and ``token_type`` (so OAuth2 clients and
    the /docs "Authorize" button work) besides the usual envelope.
    """
    user = user_store().authenticate(form.username, form.password)
    if user is None:
        raise AuthenticationError("wrong username or password")
    token, expires_at = tokens.issue(user, settings)
    expires_in = settings.access_token_ttl_s
    data = {"access_token": token, "token_type": "bearer", "expires_in": expires_in}
    return {
        **data,
        "success": True,
        "message": "logged in",
        "data": {**data, "expires_at": expires_at},
    }


@router.post("/logout", response_model=Envelope[None])
def logout(token: BearerToken, claims: Claims) -> Envelope[None]:
    """Revoke the bearer token used for this request for the rest of its life."""
    assert token is not None  # Claims refuses requests without one
    tokens.revoke(token, claims, get_redis())
    return Envelope(message="logged out")


@router.get("/me", response_model=Envelope[UserPublic])
def me(user: CurrentUser) -> Envelope[UserPublic]:
    """The account the token belongs to."""
    return Envelope(data=UserPublic(user_id=user.user_id, role=user.role))
