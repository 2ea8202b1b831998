"""The raw limit: BRPOP a message from a Redis list, LPUSH a reply; nothing else.

``python -m bench.apps.raw_worker PORT DB``; stops on SIGTERM.
"""

from __future__ import annotations

import sys

import redis


def main() -> None:
    client = redis.Redis(port=int(sys.argv[1]), db=int(sys.argv[2]))
    while True:
        item = client.brpop(["raw:tasks"], timeout=1)
        if item is not None:
            client.lpush("raw:done", item[1])


if __name__ == "__main__":
    main()
