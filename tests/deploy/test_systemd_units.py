"""deploy/systemd: `systemd-analyze verify` (when installed) and the values that matter.

verify loads each unit as systemd would and reports unknown keys and unparsable values as
warnings with exit status 0, so any output at all fails the test (a planted bogus key shows
the check can fail). The value checks read the files with a parser of systemd's syntax.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from aibox.queues import QUEUES
from aibox.settings import Settings
from tests.support import ROOT

UNITS = ROOT / "deploy" / "systemd"
SERVICES = (
    "aibox-redis.service",
    "aibox-api.service",
    "aibox-flower.service",
    "aibox-worker@.service",
)
USES_REDIS = ("aibox-api.service", "aibox-flower.service", "aibox-worker@.service")
INSTALLED_PYTHON = "/opt/aibox/.venv/bin/python"
ENV_FILE = "/etc/aibox/aibox.env"
STATE_DIR = "/var/lib/aibox"

Unit = dict[str, dict[str, list[str]]]


def parse(path: Path) -> Unit:
    """section -> key -> every value assigned, in order (systemd's syntax, continuations too)."""
    sections: Unit = defaultdict(lambda: defaultdict(list))
    section = ""
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line[0] in "#;"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        assert "=" in line, f"{path.name}: not KEY=value: {line!r}"
        assert section, f"{path.name}: {line!r} before any section"
        key, value = (part.strip() for part in line.split("=", 1))
        sections[section][key].append(value)
    return sections


def one(unit: Unit, section: str, key: str) -> str:
    values = unit[section][key]
    assert len(values) == 1, f"[{section}] {key}= set {len(values)} times"
    return values[0]


def words(unit: Unit, section: str, key: str) -> list[str]:
    return [w for value in unit[section][key] for w in value.split()]


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(s|min)?", value)
    assert match, f"not a plain time span: {value}"
    return int(match[1]) * (60 if match[2] == "min" else 1)


def env_example_value(key: str) -> str:
    text = (ROOT / "deploy" / "aibox.env.example").read_text()
    match = re.search(rf"^{key}=(.*)$", text, flags=re.MULTILINE)
    assert match, f"{key} not set in aibox.env.example"
    return match[1]


# --- systemd-analyze verify --------------------------------------------------------------


def verify(directory: Path, *names: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(f"./{n}" for n in names)],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
    )


def worker_instance(queues: str) -> str:
    """The unit name systemctl makes of ``aibox-worker@QUEUES.service`` (commas escaped)."""
    out = subprocess.run(
        ["systemd-escape", "--template=aibox-worker@.service", queues],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


@pytest.fixture
def installed_units(tmp_path: Path) -> Path:
    """The units with ExecStart='s interpreter pointed at this checkout's (verify checks it)."""
    if not shutil.which("systemd-analyze") or not shutil.which("systemd-escape"):
        pytest.skip("systemd-analyze is not installed; the value checks below still run")
    python = ROOT / ".venv" / "bin" / "python"
    for unit in UNITS.iterdir():
        text = unit.read_text()
        assert INSTALLED_PYTHON in text or unit.suffix == ".target", unit.name
        (tmp_path / unit.name).write_text(text.replace(INSTALLED_PYTHON, str(python)))
    return tmp_path


def test_systemd_analyze_verify_finds_nothing(installed_units: Path) -> None:
    instance = worker_instance("file_processing,vectorization")
    names = [*SERVICES[:3], "aibox.target", "aibox-worker@kg_extraction.service", instance]
    result = verify(installed_units, *names)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
    assert result.stdout.strip() == "", result.stdout


def test_systemd_analyze_verify_reports_a_planted_mistake(installed_units: Path) -> None:
    api = installed_units / "aibox-api.service"
    api.write_text(api.read_text().replace("Restart=always", "Restart=always\nRestartSecs=5"))
    result = verify(installed_units, "aibox-api.service")
    assert "RestartSecs" in result.stderr


def test_comma_separated_instance_is_escaped_as_documented() -> None:
    if not shutil.which("systemd-escape"):
        pytest.skip("systemd-escape is not installed")
    name = worker_instance("file_processing,vectorization")
    assert name == r"aibox-worker@file_processing\x2cvectorization.service"
    assert name in (UNITS / "aibox-worker@.service").read_text()


# --- the values -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SERVICES)
def test_service_restart_stop_and_hardening(name: str) -> None:
    unit = parse(UNITS / name)
    assert set(unit) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    assert one(unit, "Service", "EnvironmentFile") == ENV_FILE
    assert one(unit, "Service", "User") == "aibox"
    assert one(unit, "Service", "Restart") == "always"
    restart_s = seconds(one(unit, "Service", "RestartSec"))
    assert restart_s == 5
    # The restart cap can only trip if the window holds Burst restarts.
    burst = int(one(unit, "Unit", "StartLimitBurst"))
    assert seconds(one(unit, "Unit", "StartLimitIntervalSec")) > burst * restart_s
    assert one(unit, "Service", "KillMode") == "mixed"
    assert one(unit, "Service", "NoNewPrivileges") == "yes"
    assert one(unit, "Service", "ProtectSystem") == "strict"
    assert one(unit, "Service", "ProtectHome") == "yes"
    assert one(unit, "Service", "PrivateTmp") == "yes"
    # The one writable place holds every path aibox writes with the example's settings.
    assert STATE_DIR in words(unit, "Service", "ReadWritePaths")
    assert one(unit, "Service", "StateDirectory") == "aibox"
    assert env_example_value("AIBOX_VAR_DIR") == STATE_DIR
    assert one(unit, "Service", "WorkingDirectory") == STATE_DIR
    assert service["ExecStart"][0].startswith(f"{INSTALLED_PYTHON} -m ")
    assert one(unit, "Unit", "PartOf") == "aibox.target"
    assert one(unit, "Install", "WantedBy") == "aibox.target"


@pytest.mark.parametrize("name", USES_REDIS)
def test_redis_users_require_and_follow_the_redis_unit(name: str) -> None:
    unit = parse(UNITS / name)
    assert "aibox-redis.service" in words(unit, "Unit", "Requires")
    assert "aibox-redis.service" in words(unit, "Unit", "After")


def test_worker_runs_aibox_worker_on_the_instance_queues_with_a_soft_shutdown() -> None:
    unit = parse(UNITS / "aibox-worker@.service")
    exec_start = one(unit, "Service", "ExecStart").split()
    # `aibox worker` is `celery -A aibox worker` with REMAP_SIGTERM=SIGQUIT (aibox/queues.py).
    assert exec_start[:4] == [INSTALLED_PYTHON, "-m", "aibox.cli", "worker"]
    assert "--queues=%I" in exec_start  # %I: the instance unescaped, commas restored
    assert any(w.startswith("--hostname=") and "%i" in w for w in exec_start)
    assert "--concurrency=${AIBOX_WORKER_CONCURRENCY}" in exec_start
    assert "--loglevel=${AIBOX_LOG_LEVEL}" in exec_start
    # systemd's SIGKILL must not cut the soft shutdown short, nor the cold shutdown after it.
    soft = max(
        Settings().worker_soft_shutdown_timeout_s,
        float(env_example_value("AIBOX_WORKER_SOFT_SHUTDOWN_TIMEOUT_S")),
    )
    assert seconds(one(unit, "Service", "TimeoutStopSec")) >= soft + 15
    text = (UNITS / "aibox-worker@.service").read_text()
    for queue in QUEUES:
        assert f"aibox-worker@{queue}.service" in text


def test_redis_unit_stops_after_a_final_snapshot_and_wants_nothing() -> None:
    unit = parse(UNITS / "aibox-redis.service")
    assert one(unit, "Service", "ExecStart").split()[-2:] == ["aibox.cli", "server"]
    assert seconds(one(unit, "Service", "TimeoutStopSec")) >= 60
    assert not unit["Unit"].get("Requires")


def test_target_is_wanted_at_boot() -> None:
    unit = parse(UNITS / "aibox.target")
    assert one(unit, "Install", "WantedBy") == "multi-user.target"


def test_parser_reads_continuations_and_repeats(tmp_path: Path) -> None:
    sample = tmp_path / "x.service"
    sample.write_text(
        "[Service]\n# c\nExecStart=/bin/a \\\n    b\nEnvironment=A=1\nEnvironment=B=2\n"
    )
    unit = parse(sample)
    assert unit["Service"]["ExecStart"] == ["/bin/a  b"]
    assert unit["Service"]["Environment"] == ["A=1", "B=2"]
