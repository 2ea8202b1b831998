"""User accounts in Redis: username (= user id), Argon2id password hash, role."""

from __future__ import annotations

import re
import time
from typing import Literal, cast

import redis
from pydantic import BaseModel

from aibox import keys
from aibox.auth.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from aibox.connections import HashMapping
from aibox.errors import ConflictError, InvalidAccountError, NotFoundError

Role = Literal["user", "admin"]
ROLES: tuple[Role, ...] = ("user", "admin")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class User(BaseModel):
    """An account as the rest of aibox sees it (never with its password hash)."""

    user_id: str  # the username: unique, lower case, safe inside Redis key names
    role: Role = "user"
    created_at: float = 0.0

    @property
    def is_admin(self) -> bool:
        """True for the admin role."""
        return self.role == "admin"


def account_from_hash(user_id: str, data: object) -> User | None:
    """The account stored as ``data`` (the ``keys.account`` hash), or None if there is none."""
    fields = cast(dict[str, str], data)
    if "password_hash" not in fields:
        return None
    return User(
        user_id=user_id, role=cast(Role, fields["role"]), created_at=float(fields["created_at"])
    )


class UserStore:
    """Creates, reads, authenticates and removes accounts."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def add(self, username: str, password: str, role: Role = "user") -> User:
        """Create an account; the username must be new."""
        _check_username(username)
        _check_password(password)
        if role not in ROLES:
            raise InvalidAccountError(f"role must be one of {', '.join(ROLES)}")
        user = User(user_id=username, role=role, created_at=time.time())
        fields: HashMapping = {
            "role": role,
            "created_at": user.created_at,
            "password_hash": hash_password(password),
        }
        if not self.client.hsetnx(keys.account(username), "user_id", username):
            raise ConflictError(f"user {username} already exists")
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(keys.account(username), mapping=fields)
        pipe.zadd(keys.accounts(), {username: user.created_at})
        pipe.execute()
        return user

    def get(self, user_id: str) -> User | None:
        """The account, or None."""
        return account_from_hash(user_id, self.client.hgetall(keys.account(user_id)))

    def authenticate(self, username: str, password: str) -> User | None:
        """The account if the password matches, else None (same cost either way)."""
        password_hash = cast(str | None, self.client.hget(keys.account(username), "password_hash"))
        if not verify_password(password, password_hash):
            return None
        if password_hash and needs_rehash(password_hash):
            self.client.hset(keys.account(username), "password_hash", hash_password(password))
        return self.get(username)

    def set_password(self, username: str, password: str) -> None:
        """Replace an account's password."""
        _check_password(password)
        if self.get(username) is None:
            raise NotFoundError(f"user {username} not found")
        self.client.hset(keys.account(username), "password_hash", hash_password(password))

    def remove(self, username: str) -> None:
        """Delete an account (its files stay, owned by the removed id, until deleted)."""
        if not self.client.delete(keys.account(username)):
            raise NotFoundError(f"user {username} not found")
        self.client.zrem(keys.accounts(), username)

    def all(self) -> list[User]:
        """Every account, oldest first."""
        ids = cast(list[str], self.client.zrange(keys.accounts(), 0, -1))
        return [u for u in (self.get(i) for i in ids) if u is not None]

    def count(self) -> int:
        """How many accounts exist."""
        return int(self.client.zcard(keys.accounts()))


def _check_username(username: str) -> None:
    if not _USERNAME.match(username):
        raise InvalidAccountError(
            "username must be 1-64 characters of a-z, 0-9, '_', '.', '-', starting with a "
            "letter or digit"
        )


def _check_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidAccountError(f"password must be at least {MIN_LENGTH} characters")
