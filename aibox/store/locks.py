"""Per-file locks, so two deliveries of jobs on the same file never interleave their writes.

A lock is a Redis key holding the owner's token with a short TTL; a daemon thread in the
process holding it renews the TTL while the job runs. A process that dies stops renewing and
its lock expires within ``ttl_s`` — before the lease mechanism (aibox/lease.py) redelivers its
message — so a crash never leaves a file locked for good. Release and renewal compare the
token first (in Lua), so an expired lock taken over by another job is never released or
extended by the old owner.
"""

from __future__ import annotations

import logging
import threading

import redis

from aibox import keys

logger = logging.getLogger(__name__)

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def release_if_owner(client: redis.Redis, key: str, token: str) -> bool:
    """Delete ``key`` if it still holds ``token`` (EVALSHA of a cached script)."""
    return bool(client.register_script(_RELEASE)(keys=[key], args=[token]))


class FileLock:
    """A renewed, token-checked lock on one file."""

    def __init__(self, client: redis.Redis, file_id: str, token: str, ttl_s: float) -> None:
        self.client = client
        self.key = keys.file_lock(file_id)
        self.token = token
        self.ttl_ms = int(ttl_s * 1000)
        self._renew_script = client.register_script(_RENEW)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> bool:
        """Take the lock if it is free (or already ours); start renewing it."""
        taken = self.client.set(self.key, self.token, nx=True, px=self.ttl_ms)
        if not taken and self.holder() != self.token:
            return False
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew, name=f"lock {self.key}", daemon=True)
        self._thread.start()
        return True

    def holder(self) -> str | None:
        """The token of whoever holds the lock now, or None."""
        value = self.client.get(self.key)
        return None if value is None else str(value)

    def release(self) -> None:
        """Stop renewing and delete the lock if it is still ours."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        try:
            release_if_owner(self.client, self.key, self.token)
        except redis.RedisError:
            logger.warning("could not release %s; it expires by itself", self.key)

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_ms / 3000):
            try:
                if not self._renew_script(keys=[self.key], args=[self.token, self.ttl_ms]):
                    logger.error("lost %s (expired and taken over)", self.key)
                    return
            except redis.RedisError as exc:
                logger.warning("could not renew %s: %s", self.key, exc)
