"""``--set scenario.key=value``: changing one size of a scenario from the command line."""

from __future__ import annotations

import json
from typing import Any


def overrides(pairs: list[str], sizes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``scenario.key=value`` pairs (value as JSON, else a string) checked against ``sizes``."""
    out: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        scenario, _, key = name.partition(".")
        if scenario not in sizes or key not in sizes[scenario] or not value:
            known = ", ".join(f"{s}.{k}" for s, cfg in sizes.items() for k in cfg)
            raise ValueError(f"--set {pair!r}: expected scenario.key=value with one of: {known}")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        if type(parsed) is not type(sizes[scenario][key]) and not (
            isinstance(parsed, list) and isinstance(sizes[scenario][key], list)
        ):
            expected = type(sizes[scenario][key]).__name__
            raise ValueError(f"--set {pair!r}: {scenario}.{key} must be {expected}")
        out.setdefault(scenario, {})[key] = parsed
    return out
