"""The README's quick start, run line by line as written: `make run`, then each shell command;
then what else it promises of `make run` (Flower behind auth, a killed worker restarted).

Only what a reader fills in is filled in: the printed admin password (`PASSWORD=…`), a file
id from the upload's answer (`FILE=3f0c…`) and the ports (the stack runs on free ones, not
8000). `make run` is the real one, stopped as a terminal stops it: SIGINT to its process
group. `make test` is what runs this test, so it is the one line not run here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx

from tests.support import ROOT, free_port, pings, wait_for

DATA = Path(__file__).resolve().parent / "data"
NOTES = b"# Notes\n\nThe company was founded by Ada Lovelace in London in 1843.\n"


def quick_start() -> list[str]:
    """The commands of the README's quick start, continuation lines joined, in order."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands: list[str] = []
    for block in re.findall(r"```console\n(.*?)```", section, flags=re.DOTALL):
        prompted = any(line.startswith("$ ") for line in block.splitlines())
        pending = ""
        for line in block.splitlines():
            if pending:
                pending += "\n" + line
            elif prompted and line.startswith("$ "):
                pending = line[2:]
            elif not prompted and line.strip():
                pending = line
            if pending and not pending.endswith("\\"):
                commands.append(pending)
                pending = ""
    return commands


def test_the_quick_start_is_what_this_test_runs() -> None:
    commands = quick_start()
    assert commands[:2] == [
        "make run     # creates .venv if missing; starts Redis+FalkorDB (if needed), a worker, "
        "the API, Flower",
        "make test    # creates .venv if missing; runs the whole test suite",
    ]
    assert len(commands) == 13, commands


def test_every_quick_start_line_works_as_written(spawn: Callable[..., Any], tmp_path: Path) -> None:
    commands = quick_start()
    redis_port, api_port = free_port(), free_port()
    env = {
        **os.environ,
        "AIBOX_ENVIRONMENT": "development",
        "AIBOX_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "AIBOX_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "AIBOX_VAR_DIR": str(tmp_path / "var"),
        "AIBOX_API_PORT": str(api_port),
        "AIBOX_FLOWER_PORT": str(free_port()),
        "AIBOX_WORKER_CONCURRENCY": "1",
        "AIBOX_WORKER_SOFT_SHUTDOWN_TIMEOUT_S": "5",
    }
    env.pop("AIBOX_FLOWER_PASSWORD", None)  # as on a fresh machine: make run prints one
    env.pop("MAKEFLAGS", None)
    home = tmp_path / "home"  # the reader's directory: their files, the clone's .venv
    home.mkdir()
    (home / "notes.md").write_bytes(NOTES)
    shutil.copy(DATA / "docs" / "python-tutorial-appetite.pdf", home / "report.pdf")
    venv = ROOT / ".venv" if (ROOT / ".venv").is_dir() else Path(sys.prefix)
    (home / ".venv").symlink_to(venv)

    assert commands[0].startswith("make run")
    log = tmp_path / "make-run.log"
    with open(log, "wb") as out:
        make = spawn(
            ["bash", "-c", commands[0]],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal's foreground process group
        )
    api = f"http://127.0.0.1:{api_port}"
    try:
        wait_for(lambda: _answers(f"{api}/health"), timeout=120, interval=0.5)
        assert (tmp_path / "var" / "redis" / "appendonlydir").is_dir()  # its own Redis started
        password = re.search(r"user admin, password (\S+)", log.read_text())
        assert password is not None, log.read_text()
        shell = Shell(home, env, api_port)
        filled = {"PASSWORD": password[1]}
        checked: list[str] = []
        for command in commands[2:]:
            if (assignment := re.fullmatch(r"(\w+)=\S*…\s+#.*", command)) is not None:
                name = assignment[1]
                if name == "FILE":
                    filled[name] = json.loads(shell.last)["data"]["files"][0]["file_id"]
                shell.variables[name] = filled[name]
                continue
            shell.run(command)
            checked.append(_check(command, shell.last))
        assert checked == [
            "token",
            "upload",
            "status",
            "events",
            "search",
            "submit",
            "search",
            "info",
            "check",
        ]
        _flower_and_a_killed_worker(log, env, shell, commands[-1])
    finally:
        os.killpg(make.pid, signal.SIGINT)  # Ctrl-C
        make.wait(120)
    text = log.read_text()
    assert (
        text.index("stopping worker") < text.index("stopping redis") < text.index("redis stopped")
    )
    assert _answers(f"{api}/health") is None
    assert not pings(redis_port)


def _flower_and_a_killed_worker(log: Path, env: dict[str, str], shell: Shell, check: str) -> None:
    """What else `make run` promises: Flower behind the printed password, on all three
    queues; a worker killed by the kernel (OOM, kill -9) is restarted and serves again."""
    flower = f"http://127.0.0.1:{env['AIBOX_FLOWER_PORT']}"
    printed = re.search(r"Flower password for this run \(.*?\): (\S+)", log.read_text())
    assert printed is not None, log.read_text()
    denied = wait_for(lambda: _answers(f"{flower}/api/workers"), timeout=60, interval=0.5)
    assert denied.status_code == 401
    workers = wait_for(lambda: _flower_workers(flower, printed[1]), timeout=60, interval=1)
    queues = {q["name"] for info in workers.values() for q in info["active_queues"]}
    assert queues == {"file_processing", "vectorization", "kg_extraction"}

    worker_pid = re.search(r"worker\s+pid (\d+)", log.read_text())
    assert worker_pid is not None, log.read_text()
    os.kill(int(worker_pid[1]), signal.SIGKILL)
    wait_for(lambda: "worker restarted: pid" in log.read_text(), timeout=30, interval=0.2)
    assert re.search(r"worker was killed by SIGKILL; restarting it in \d+s\.", log.read_text())
    shell.run(check.replace("aibox check", "aibox check --wait 60"))  # the new one consumes


def _flower_workers(flower: str, password: str) -> dict[str, Any]:
    response = _answers(f"{flower}/api/workers?refresh=1", auth=("admin", password))
    if response is None or response.status_code != 200:
        return {}
    data = response.json()
    return data if data and all(v.get("active_queues") for v in data.values()) else {}


class Shell:
    """Runs the README's lines with bash, in the reader's directory, keeping their variables."""

    def __init__(self, home: Path, env: dict[str, str], api_port: int) -> None:
        self.home, self.env, self.api_port = home, env, api_port
        self.variables: dict[str, str] = {}
        self.last = ""

    def run(self, command: str) -> None:
        command = command.replace("127.0.0.1:8000", f"127.0.0.1:{self.api_port}")
        assignment = re.match(r"(\w+)=", command)
        script = f'{command}\nprintf %s "${assignment[1]}"' if assignment else command
        result = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=self.home,
            env={**self.env, **self.variables},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        if assignment:
            self.variables[assignment[1]] = result.stdout
            assert result.stdout, f"{command} set nothing"
        self.last = result.stdout


def _check(command: str, output: str) -> str:
    """Check what a line printed (each exited 0 already); returns which line it was."""
    if command.startswith("TOKEN="):
        return "token"  # Shell.run checked that it set something
    if "-F files=@" in command:
        data = json.loads(output)["data"]
        assert (data["accepted"], data["rejected"]) == (2, 0), output
        return "upload"
    if "/status" in command:
        assert json.loads(output)["success"] is True, output
        return "status"
    if "/events" in command:  # streams until the job ends, then the stream closes
        assert re.search(r'"status": ?"completed"', output), output
        return "events"
    if "/api/v1/search" in command:
        hits = json.loads(output)["data"]
        assert hits[0]["filename"] == "notes.md", output
        return "search"
    if "aibox search" in command:
        assert "notes.md" in output, output
        return "search"
    if "aibox submit" in command:
        assert output.count(" job ") == 2, output
        return "submit"
    return command.split()[1]  # aibox info, aibox check: their exit status says it


def _answers(url: str, **kwargs: Any) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=2, **kwargs)
    except httpx.HTTPError:
        return None
