"""Values typed on a command line (`--set a.b=3e-4`, `seed:=3`), parsed as YAML.

YAML 1.1 reads "3e-4" as a string (it wants a dot: "3.0e-4"); people type the former, so exponent
numbers are turned into floats here, also inside lists and mappings.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

_EXPONENT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def parse_value(raw: str) -> Any:
    """A value parsed as YAML, except that exponent numbers ("3e-4", "1E5") are floats, not strings."""
    return _fix_exponents(yaml.safe_load(raw))


def _fix_exponents(value: Any) -> Any:
    if isinstance(value, str) and _EXPONENT.fullmatch(value.strip()):
        return float(value)
    if isinstance(value, list):
        return [_fix_exponents(v) for v in value]
    if isinstance(value, dict):
        return {k: _fix_exponents(v) for k, v in value.items()}
    return value


def bag_directory(value: str) -> str:
    """A `record:=` value as the bag directory to write: "run.mcap" means the bag "run" (run/run_0.mcap inside).

    rosbag2 (and physai's recorder) writes a bag *directory* holding <name>_0.mcap; people often type the file
    name they expect. Any other value is returned unchanged.
    """
    suffix = ".mcap"
    trimmed = value.rstrip("/")
    if trimmed.endswith(suffix) and not trimmed.endswith("/" + suffix) and trimmed != suffix:
        return trimmed[: -len(suffix)]
    return value


def finite_numbers(value: Any, n: int) -> tuple[float, ...] | None:
    """`value` as `n` floats when it is a list of `n` finite real numbers (a bool is not one); else None."""
    if not (isinstance(value, list) and len(value) == n):
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        return None
    return tuple(float(v) for v in value)
