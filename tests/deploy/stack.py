"""A real supervisord running deploy/supervisor/aibox.conf, unchanged, on private ports.

The environment file is deploy/aibox.env.example with the values an operator must set filled
in (secret, Flower password) and the ports and directories moved somewhere private.
supervisord gets AIBOX_HOME (this checkout), AIBOX_VAR_DIR and AIBOX_ENV_FILE, as the
operator's instructions say; everything else reaches the programs through aibox-env.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from tests.support import ROOT, free_port, wait_for

CONF = ROOT / "deploy" / "supervisor" / "aibox.conf"
EXAMPLE = ROOT / "deploy" / "aibox.env.example"
WRAPPER = ROOT / "deploy" / "supervisor" / "aibox-env"
PROGRAMS = ("server", "worker", "api", "flower")
GROUPS = {"server": "redis", "worker": "aibox", "api": "aibox", "flower": "aibox"}


def fill_example(values: dict[str, str]) -> str:
    """The example environment file with each ``KEY=...`` line set to ``values[KEY]``."""
    text = EXAMPLE.read_text()
    for key, value in values.items():
        text, count = re.subn(rf"^{key}=.*$", f"{key}={value}", text, flags=re.MULTILINE)
        assert count == 1, f"{key}= must appear once, uncommented, in {EXAMPLE.name}"
    return text


def clean_environ() -> dict[str, str]:
    """This process's environment without the test suite's aibox settings."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIBOX_", "FLOWER_")) and k != "REMAP_SIGTERM"
    }


@dataclass
class Stack:
    """A running supervisord and what the tests need to reach its programs."""

    root: Path
    process: subprocess.Popen[bytes]
    environ: dict[str, str]
    redis_port: int
    api_url: str
    flower_url: str
    flower_password: str
    seen_pids: set[int] = field(default_factory=set)

    @property
    def var(self) -> Path:
        return self.root / "var"

    def ctl(self, *args: str) -> str:
        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "supervisorctl"), "-c", str(CONF), *args],
            env=self.environ,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return result.stdout

    def states(self) -> dict[str, tuple[str, int | None]]:
        """program -> (state, pid) from ``supervisorctl status``."""
        found: dict[str, tuple[str, int | None]] = {}
        for line in self.ctl("status").splitlines():
            match = re.match(r"(\w+):(\w+)\s+(\w+)(?:\s+pid (\d+))?", line)
            if match and GROUPS.get(match[2]) == match[1]:
                pid = int(match[4]) if match[4] else None
                if pid:
                    self.seen_pids.add(pid)
                found[match[2]] = (match[3], pid)
        return found

    def running_pid(self, program: str) -> int | None:
        state, pid = self.states().get(program, ("MISSING", None))
        return pid if state == "RUNNING" else None

    def log(self, program: str) -> str:
        path = self.var / "log" / f"{program}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def run_aibox(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """``aibox-env python -m aibox.cli ARGS``, as an operator would run it."""
        return subprocess.run(
            [str(WRAPPER), str(ROOT / ".venv" / "bin" / "python"), "-m", "aibox.cli", *args],
            env=self.environ,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )


def api_healthy(stack: Stack) -> bool:
    try:
        return httpx2.get(f"{stack.api_url}/health", timeout=5).status_code == 200
    except httpx2.HTTPError:
        return False


def flower_answers(stack: Stack) -> bool:
    try:
        return httpx2.get(stack.flower_url, timeout=5).status_code == 401
    except httpx2.HTTPError:
        return False


def start_stack(root: Path, settings: dict[str, str] | None = None) -> Stack:
    """Write the environment file (with ``settings`` added), start supervisord in the
    foreground, return at once."""
    var = root / "var"
    (var / "log").mkdir(parents=True)
    redis_port, api_port, flower_port = free_port(), free_port(), free_port()
    password = secrets.token_urlsafe(16)
    env_file = root / "aibox.env"
    env_file.write_text(
        fill_example(
            {
                "AIBOX_JWT_SECRET": secrets.token_urlsafe(48),
                "AIBOX_FLOWER_PASSWORD": password,
                "AIBOX_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                "AIBOX_VAR_DIR": str(var),
                "AIBOX_HOME": str(ROOT),
                "AIBOX_API_PORT": str(api_port),
                "AIBOX_FLOWER_PORT": str(flower_port),
                # A stop (teardown) would otherwise give idle workers a minute.
                "AIBOX_WORKER_SOFT_SHUTDOWN_TIMEOUT_S": "5",
            }
        )
        # A killed worker's job comes back within 14 s instead of 40 (the test that kills
        # one waits for it): the example's commented lease settings, set.
        + "AIBOX_VISIBILITY_TIMEOUT_S=10\nAIBOX_LEASE_INTERVAL_S=2\n"
        + "AIBOX_RESTORE_SWEEP_INTERVAL_S=2\n"
        + "".join(f"{name}={value}\n" for name, value in (settings or {}).items())
    )
    environ = {
        **clean_environ(),
        "AIBOX_HOME": str(ROOT),
        "AIBOX_VAR_DIR": str(var),
        "AIBOX_ENV_FILE": str(env_file),
    }
    out = open(root / "supervisord.out", "ab")  # noqa: SIM115 - the child keeps its copy
    with out:
        process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "supervisord"), "-c", str(CONF), "--nodaemon"],
            env=environ,
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Stack(
        root=root,
        process=process,
        environ=environ,
        redis_port=redis_port,
        api_url=f"http://127.0.0.1:{api_port}",
        flower_url=f"http://127.0.0.1:{flower_port}",
        flower_password=password,
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_stack(stack: Stack) -> None:
    """SIGTERM supervisord (it stops every program in order), then SIGKILL any leftover."""
    stack.states()  # remember the current programs' PIDs
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGTERM)
        try:
            stack.process.wait(180)
        except subprocess.TimeoutExpired:
            stack.process.kill()
            stack.process.wait()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in stack.seen_pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in stack.seen_pids:
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)  # each program leads a process group of its own


def wait_until_all_running(stack: Stack, timeout: float = 180) -> dict[str, int]:
    """Every program RUNNING, the API healthy and Flower answering; returns their PIDs."""

    def ready() -> dict[str, int] | None:
        if stack.process.poll() is not None:
            raise AssertionError(
                f"supervisord exited: {(stack.root / 'supervisord.out').read_text()}"
            )
        pids = {p: stack.running_pid(p) for p in PROGRAMS}
        if all(pids.values()) and api_healthy(stack) and flower_answers(stack):
            return {p: pid for p, pid in pids.items() if pid}
        return None

    return dict(wait_for(ready, timeout=timeout, interval=1))
