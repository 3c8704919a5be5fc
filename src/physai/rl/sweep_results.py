"""Sweep results: trials ranked by a metric, a fixed-width table, results.csv and results.json."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from physai.rl.sweep_grid import plain

ROW_KEYS = (
    "mean_return",
    "std_return",
    "fall_rate",
    "success_rate",
    "lin_vel_error_m_s",
    "yaw_rate_error_rad_s",
    "mean_episode_seconds",
    "steps",
    "train_s",
    "steps_per_s",
    "device",
    "node_ip",
    "run_dir",
    "policy",
    "tune_trial_id",
)
"""Per-trial columns of results.csv / results.json beside the trial name, seed and grid values."""


@dataclass(frozen=True)
class SweepResult:
    """What `run_sweep` produced; `rows` are the finished trials ranked best-first by `metric`."""

    folder: Path
    metric: str
    mode: str
    grid_keys: list[str]
    rows: list[dict[str, Any]]
    """Per trial: rank, trial, seed, the grid values (by dotted key), the eval metrics, steps, train_s,
    steps_per_s, device, node_ip, run_dir, policy, tune_trial_id."""
    errors: list[dict[str, Any]]
    """Failed trials: trial, seed, grid values, error (text)."""
    csv_path: Path
    json_path: Path
    ray_address: str
    """GCS address of the Ray cluster the sweep ran on (127.0.0.1:PORT for a local Ray)."""
    wall_s: float

    @property
    def best(self) -> dict[str, Any]:
        """The best trial's row."""
        if not self.rows:
            raise ValueError("no trial finished")
        return self.rows[0]

    def table(self) -> str:
        """Fixed-width table of the ranked trials (and failures below it)."""
        metric_cols = [self.metric] + [m for m in ("mean_return", "fall_rate") if m != self.metric]
        columns = ["rank", "trial", "seed", *self.grid_keys, *metric_cols, "steps", "train_s", "policy"]
        lines = [[str(c) for c in columns]]
        lines += [[cell(row.get(c)) for c in columns] for row in self.rows]
        widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
        text = [
            "  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)).rstrip() for line in lines
        ]
        text.insert(1, "  ".join("-" * width for width in widths))
        text += [f"FAILED {e['trial']} (seed {e['seed']}): {(e['error'] or '?').splitlines()[-1]}" for e in self.errors]
        return "\n".join(text)

    def __str__(self) -> str:
        return self.table()


def write_results(result: SweepResult, config: Any) -> None:
    """results.csv (ranked rows, then failures) and results.json (rows, errors, the sweep's config)."""
    table = result.rows + [{**error, "rank": None} for error in result.errors]
    columns: list[str] = []
    for row in table:
        columns += [key for key in row if key not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in table:
        writer.writerow({k: json.dumps(v) if isinstance(v, (list, tuple, dict)) else v for k, v in row.items()})
    result.csv_path.write_text(buffer.getvalue())
    data = {
        "metric": result.metric,
        "mode": result.mode,
        "rows": result.rows,
        "errors": result.errors,
        "wall_s": round(result.wall_s, 3),
        "ray_address": result.ray_address,
        "config": dataclasses.asdict(config),
    }
    result.json_path.write_text(json.dumps(plain(data), indent=2, allow_nan=False))


def rank_key(value: Any, mode: str) -> tuple[int, float]:
    """Sort key of a metric value, best first for `mode` (max or min); missing or non-finite values last."""
    if value is None or not math.isfinite(value):
        return (1, 0.0)
    return (0, -value if mode == "max" else value)


def cell(value: Any) -> str:
    """A table cell: '-' for None, 4 significant digits for floats."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
