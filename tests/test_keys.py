"""Every Redis key name aibox uses is built in aibox/keys.py, and nowhere else."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from aibox import keys

ROOT = Path(__file__).resolve().parent.parent
# A key literal: "aibox:" then a name (docstrings say "aibox: ..." with a space).
KEY_LITERAL = re.compile(r"^aibox:[A-Za-z{]")


def literals(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string constant and the leading text of every f-string."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((node.lineno, first.value))
    return found


def test_no_aibox_key_literal_outside_keys_py() -> None:
    offenders = []
    for folder in ("aibox", "tests", "bench"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "aibox" / "keys.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            offenders += [
                f"{path.relative_to(ROOT)}:{line}: {text[:40]!r}"
                for line, text in literals(tree)
                if KEY_LITERAL.match(text)
            ]
    assert offenders == []


def test_every_key_builder_is_documented_and_namespaced() -> None:
    old_names = {"processing_status", "upload_progress", "jwt_blacklist"}  # the RQ system's
    for name, builder in inspect.getmembers(keys, inspect.isfunction):
        assert builder.__doc__, name
        arguments = ["x"] * len(inspect.signature(builder).parameters)
        key = builder(*arguments)
        assert key.startswith("aibox:") or name in old_names, (name, key)
