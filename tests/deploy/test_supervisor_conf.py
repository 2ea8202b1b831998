"""deploy/supervisor/aibox.conf, read: the settings the real supervisord test cannot time.

(test_supervisor.py runs it; this checks what would only show on a long stop or a crash.)
"""

from __future__ import annotations

import configparser

import pytest

from aibox.settings import Settings
from tests.deploy.stack import CONF, GROUPS, PROGRAMS


@pytest.fixture(scope="module")
def conf() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(inline_comment_prefixes=None)
    parser.read_string(CONF.read_text())
    return parser


def test_programs_and_groups(conf: configparser.RawConfigParser) -> None:
    assert {s.split(":", 1)[1] for s in conf.sections() if s.startswith("program:")} == set(
        PROGRAMS
    )
    for group in set(GROUPS.values()):
        members = conf.get(f"group:{group}", "programs").split(",")
        assert members == [p for p in PROGRAMS if GROUPS[p] == group]
    # The data server's group is stopped last (supervisord stops the highest priority first).
    assert conf.getint("group:redis", "priority") < conf.getint("group:aibox", "priority")


@pytest.mark.parametrize("program", PROGRAMS)
def test_restart_and_stop_settings(conf: configparser.RawConfigParser, program: str) -> None:
    section = f"program:{program}"
    assert conf.get(section, "autorestart") == "true"
    assert conf.getint(section, "startsecs") > 0
    assert conf.getint(section, "startretries") >= 3
    assert conf.get(section, "stopsignal") == "TERM"
    # SIGTERM to the main process only; SIGKILL, if it comes to that, to its whole group.
    assert conf.get(section, "stopasgroup") == "false"
    assert conf.get(section, "killasgroup") == "true"
    assert conf.get(section, "stdout_logfile") == f"%(ENV_AIBOX_VAR_DIR)s/log/{program}.log"
    assert conf.get(section, "redirect_stderr") == "true"
    assert conf.get(section, "command").startswith(
        "%(ENV_AIBOX_HOME)s/deploy/supervisor/aibox-env "
    )


def test_worker_waits_out_its_soft_shutdown(conf: configparser.RawConfigParser) -> None:
    soft = Settings().worker_soft_shutdown_timeout_s
    assert conf.getint("program:worker", "stopwaitsecs") >= soft + 15
    command = conf.get("program:worker", "command")
    # `aibox worker`: every queue by default, REMAP_SIGTERM=SIGQUIT set by the command itself
    # (tests/deploy/test_supervisor.py reads it in the running worker's environment).
    assert "/.venv/bin/python -m aibox.cli worker " in command
    assert "-Q" not in command
