"""JWT bearer tokens: issue, verify, and revoke on logout (``jwt:blacklist:{sha256}``)."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
import redis

from aibox import keys
from aibox.auth.users import User, account_from_hash
from aibox.errors import AuthenticationError, ConfigurationError
from aibox.settings import Settings

ALGORITHM = "HS256"
_MIN_SECRET = 32
_LOGGED_OUT = "the token was logged out; log in again"
_PLACEHOLDERS = frozenset({"changeme", "change-me", "secret", "please-change-me", "jwt-secret"})


@dataclass(frozen=True, slots=True)
class Claims:
    """What a valid token says."""

    user_id: str
    role: str
    expires_at: int


def signing_secret(settings: Settings) -> str:
    """The secret tokens are signed with; refuses a missing or weak one outside development.

    In development an empty setting means: use ``var/jwt-secret``, creating it (mode 0600) the
    first time, so tokens survive restarts of ``make run``.
    """
    secret = settings.jwt_secret.get_secret_value()
    weak = len(secret) < _MIN_SECRET or secret.lower() in _PLACEHOLDERS
    if secret and not weak:
        return secret
    if settings.environment == "development" and not secret:
        return _development_secret(settings.var_dir.resolve() / "jwt-secret")
    raise ConfigurationError(
        "AIBOX_JWT_SECRET is missing or too weak: set it to a random value of at least "
        f"{_MIN_SECRET} characters, e.g. the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
    )


def issue(user: User, settings: Settings) -> tuple[str, int]:
    """A signed token for ``user`` and its expiry (Unix seconds)."""
    now = int(time.time())
    expires_at = now + settings.access_token_ttl_s
    claims = {
        "sub": user.user_id,
        "role": user.role,
        "iat": now,
        "exp": expires_at,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, signing_secret(settings), algorithm=ALGORITHM), expires_at


def verify(token: str, settings: Settings, client: redis.Redis) -> Claims:
    """The token's claims if it is well signed, unexpired and not logged out."""
    claims = decode(token, settings)
    if client.exists(keys.jwt_blacklist(token_hash(token))):
        raise AuthenticationError(_LOGGED_OUT)
    return claims


def account_of(token: str, settings: Settings, client: redis.Redis) -> User:
    """The account of a well signed, unexpired, not logged out token (one round trip)."""
    claims = decode(token, settings)
    pipe = client.pipeline(transaction=False)
    pipe.exists(keys.jwt_blacklist(token_hash(token)))
    pipe.hgetall(keys.account(claims.user_id))
    logged_out, account = pipe.execute()
    if logged_out:
        raise AuthenticationError(_LOGGED_OUT)
    user = account_from_hash(claims.user_id, account)
    if user is None:
        raise AuthenticationError("the token's user no longer exists")
    return user


def decode(token: str, settings: Settings) -> Claims:
    """The claims of a well signed, unexpired token (logouts are not checked: see verify)."""
    try:
        data = jwt.decode(
            token,
            signing_secret(settings),
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp", "iat"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationError("the token has expired; log in again") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthenticationError("the token is not valid") from exc
    return Claims(str(data["sub"]), str(data.get("role", "user")), int(data["exp"]))


def revoke(token: str, claims: Claims, client: redis.Redis) -> None:
    """Blacklist a token for the rest of its life (logout)."""
    remaining = max(1, claims.expires_at - int(time.time()))
    client.set(keys.jwt_blacklist(token_hash(token)), "1", ex=remaining)


def token_hash(token: str) -> str:
    """The blacklist key's id for a token (the token itself is never stored)."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _development_secret(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(48))
        try:
            os.link(staging, path)  # atomic, and refuses to replace a secret made meanwhile
        except FileExistsError:
            pass
        finally:
            staging.unlink()
    return path.read_text(encoding="ascii").strip()
