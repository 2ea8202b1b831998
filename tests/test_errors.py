"""Every aibox exception lives in aibox/errors.py and says how the API answers it."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from aibox import errors

ROOT = Path(__file__).resolve().parent.parent / "aibox"


def aibox_errors() -> list[type[errors.AiboxError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.AiboxError)
    ]


def test_no_exception_class_is_defined_outside_errors_py() -> None:
    elsewhere = []
    for path in ROOT.rglob("*.py"):
        if path.name == "errors.py" and path.parent == ROOT:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and (base.id.endswith(("Error", "Exception")))
                for base in node.bases
            ):
                elsewhere.append(f"{path.relative_to(ROOT.parent)}: {node.name}")
    assert elsewhere == []


@pytest.mark.parametrize("cls", aibox_errors(), ids=lambda cls: cls.__name__)
def test_every_error_has_a_status_a_stable_code_and_a_docstring(
    cls: type[errors.AiboxError],
) -> None:
    assert 400 <= cls.status <= 599
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", cls.code), cls.code
    assert (cls.__doc__ or "").startswith("Raised when"), cls.__name__


def test_server_side_errors_do_not_leak_their_message() -> None:
    error = errors.ConfigurationError("AIBOX_JWT_SECRET=hunter2 is too short")
    assert "hunter2" not in error.public_message()
    assert errors.NotFoundError("file 1 not found").public_message() == "file 1 not found"
    enqueue = errors.EnqueueError("Error 111 connecting to 10.0.0.5:6379")
    assert "10.0.0.5" not in enqueue.public_message()
