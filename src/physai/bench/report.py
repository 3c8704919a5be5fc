"""Benchmark reports: `{"bench": NAME, "figures": {...}, "ratios": {...}}`, printed as a table and saved as JSON.

Timing on shared machines is noisy, so every figure is measured several times in the same run and
reported as its median; ratios compare figures from that same run, never against stored numbers.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from physai.control import LoopStats, RateLoop


def empty_loop(period_s: float, seconds: float, *, realtime: bool = False, cpu: int | None = None) -> LoopStats:
    """An empty RateLoop run for `seconds` in the calling thread, with lateness over every tick.

    The floor the machine's timers and scheduler set for any loop of that period, whatever its work.
    """
    loop = RateLoop(period_s, realtime=realtime, cpu=cpu, name="empty_loop", window=math.ceil(seconds / period_s) + 1)
    return loop.run(lambda: None, duration_s=seconds)


def median_rates(runs: dict[str, Callable[[], int]], repeats: int) -> dict[str, float]:
    """Median units/s of each `run` (which returns how many units it did) over `repeats` rounds.

    The runs are interleaved round by round, so slow drifts of a shared machine hit each of them alike.
    """
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            units = run()
            rates[name].append(units / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in rates.items()}


def write_report(
    bench: str, figures: dict[str, Any], ratios: dict[str, float], path: str | Path | None, **meta: Any
) -> dict:
    """Print figures and ratios as a table; write the JSON report to `path` if given. Returns the report."""
    report = {"bench": bench, **meta, "figures": figures, "ratios": ratios}
    width = max(len(k) for k in [*figures, *ratios])
    print(f"physai bench {bench}" + "".join(f"  {k}={v}" for k, v in meta.items()))
    for key, value in figures.items():
        print(f"  {key:<{width}}  {_fmt(value)}")
    for key, value in ratios.items():
        print(f"  {key:<{width}}  {value:.3f}  (ratio)")
    if path is not None:  # its folder must exist (`physai bench` checks it before measuring)
        Path(path).write_text(json.dumps(report, indent=2) + "\n")
        print(f"  wrote {path}")
    return report


def _fmt(value: Any) -> str:
    """A figure for the table: floats to one decimal, mappings as "key value, …" (nested in parentheses)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, dict):
        return ", ".join(f"{k} ({_fmt(v)})" if isinstance(v, dict) else f"{k} {_fmt(v)}" for k, v in value.items())
    return str(value)
