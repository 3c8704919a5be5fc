"""Sweep grids: seeds and settings from the command line, one dotted setting applied to a TrainConfig.

`parse_seeds("0-3")`, `parse_grid(["ppo.learning_rate=3e-4,1e-3"])`, `apply_setting(config, "overrides.push.enabled",
False)`. Keys of trial combinations (`combo_key`) are canonical JSON, so equal values always name one trial.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from physai.rl.config import TrainConfig, set_field
from physai.values import parse_value

RESERVED_KEYS = ("seed", "out", "resume", "task")
"""TrainConfig fields a grid or the fixed settings may not set (the sweep owns them; seeds go in `seeds`)."""


def parse_seeds(text: str) -> list[int]:
    """Seeds from "0-3" (inclusive), "0,2,5" or a mix ("0-2,7"); duplicates refused."""
    seeds: list[int] = []
    for part in text.replace(" ", "").split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise ValueError(f"seeds {text!r}: {part!r} is not N or A-B (non-negative integers)")
        first, last = int(match[1]), int(match[2] if match[2] is not None else match[1])
        if last < first:
            raise ValueError(f"seeds {text!r}: range {part!r} runs backwards")
        seeds += range(first, last + 1)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds {text!r}: a seed appears twice")
    return seeds


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """Grid from `KEY=V1,V2,…` items; values are YAML ("3e-4", "true", "[64,64]"), a YAML list per item.

    >>> parse_grid(["ppo.learning_rate=3e-4,1e-3", "overrides.push.enabled=true,false"])
    {'ppo.learning_rate': [0.0003, 0.001], 'overrides.push.enabled': [True, False]}
    """
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or not raw.strip():
            raise ValueError(f"grid {item!r}: expected KEY=V1,V2,… e.g. ppo.learning_rate=3e-4,1e-3")
        if key in grid:
            raise ValueError(f"grid {item!r}: {key} is given twice")
        try:
            values = parse_value(f"[{raw}]")
        except yaml.YAMLError as err:
            raise ValueError(f"grid {item!r}: the values are not YAML ({str(err).splitlines()[0]})") from err
        grid[key] = values
    return grid


def apply_setting(config: TrainConfig, dotted: str, value: Any) -> None:
    """Set one dotted setting on `config`: `overrides.a.b` into the nested task overrides, else `set_field`."""
    head, _, rest = dotted.partition(".")
    if head == "overrides":
        if not rest:
            raise ValueError(f"setting {dotted!r}: expected overrides.<task YAML key>, e.g. overrides.push.enabled")
        overrides = copy.deepcopy(config.overrides)
        node = overrides
        *parents, leaf = rest.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"setting {dotted!r}: {part} is already set to a value, not a mapping")
            node = child
        node[leaf] = copy.deepcopy(value)
        config.overrides = overrides
        return
    if head in RESERVED_KEYS:
        raise ValueError(f"setting {dotted!r}: the sweep sets {head} (seeds: SweepConfig.seeds)")
    set_field(config, dotted, yaml.safe_dump(value))


def plain(value: Any) -> Any:
    """JSON-ready copy: mappings and sequences recursed, non-finite floats → None, other objects → str."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def canonical_key(value: Any) -> str:
    """Canonical JSON of a value (sorted keys, NaN as null): equal settings give equal keys."""
    return json.dumps(plain(value), sort_keys=True)


def combo_key(seed: Any, values: Sequence[Any]) -> str:
    """The key of one trial: its seed and grid values."""
    return canonical_key([seed, list(values)])


def trial_name(index: int) -> str:
    """trial_NNN: the folder and Tune name of trial number `index`."""
    return f"trial_{index:03d}"
