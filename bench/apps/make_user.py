"""Create an aibox account on the configured Redis: ``python -m bench.apps.make_user NAME PW``."""

from __future__ import annotations

import sys

from aibox.services import user_store

if __name__ == "__main__":
    user_store().add(sys.argv[1], sys.argv[2])
    print("{}")
