"""The queue fault-injection workers consume (tests only).

Kept apart from ``tests/faults/app.py``: importing that module adds the queue to the shared
app's configuration, which only the fault workers' own processes should do.
"""

from __future__ import annotations

from kombu import Exchange, Queue

FAULT_QUEUE = Queue("aibox-faults", Exchange("aibox-faults", type="direct"), "aibox-faults")
