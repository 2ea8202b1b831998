"""Integration tests are marked from the fixtures they use, not by hand."""

from __future__ import annotations

import subprocess
import sys

from tests.support import ROOT, needs_a_worker


def test_a_worker_fixture_or_a_process_of_its_own_makes_an_integration_test() -> None:
    assert needs_a_worker(["redis_client", "worker"])
    assert needs_a_worker(["api", "held_worker"])
    assert needs_a_worker(["tmp_path", "spawn"])
    assert not needs_a_worker(["redis_client", "tmp_path", "monkeypatch"])


def test_the_fast_lane_holds_no_test_that_starts_a_worker() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "not integration"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    fast = {line.split("::")[0] for line in listed.splitlines() if "::" in line}
    # Every test of these modules starts workers or whole stacks.
    for module in ("tests/faults/test_delivery.py", "tests/monitoring/test_revoke.py"):
        assert module not in fast
    assert "tests/store/test_fulltext.py" in fast
