"""Walking metrics from per-step logs (env episodes or recorded runs), and their plot (numpy; matplotlib to plot).

Tracking is judged on the body's stride-average velocity: the measured velocity (IMU frame, as the policy's
rewards see it) averaged over one gait period, because a walking body sways at the step frequency. Steps
within `SETTLE_S` of an episode start or of a command change are left out of the tracking and drift figures
(the robot is still accelerating then); they count for falls, slip and step frequency.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SETTLE_S = 1.0
"""Time after an episode start or a command change that tracking and drift leave out (s)."""
DEFAULT_WINDOW_S = 0.5
"""Averaging window when the contract has no gait clock (s)."""
STANDING_SPEED = 1e-6
"""A command whose every component is below this (m/s, rad/s) is a stand command (eval, the walk rewards)."""


def standing(command: np.ndarray) -> np.ndarray:
    """True where a (vx, vy, yaw rate) command, shape (..., 3), asks to stand still."""
    return (np.abs(np.asarray(command)) < STANDING_SPEED).all(axis=-1)


@dataclass
class WalkLog:
    """One episode, step by step (k steps of `dt_s`)."""

    dt_s: float
    """Policy period (s)."""
    command: list[np.ndarray]
    """(vx m/s, vy m/s, yaw rate rad/s) commanded at each step."""
    measured: list[np.ndarray]
    """(vx m/s, vy m/s, yaw rate rad/s) measured at each step (IMU frame)."""
    contact: list[np.ndarray]
    """(left, right) foot contact at each step, bools."""
    slip_m_s: list[float]
    """Mean speed of the feet in contact at each step (m/s)."""

    @classmethod
    def empty(cls, dt_s: float) -> WalkLog:
        """A log to append steps to."""
        return cls(dt_s, [], [], [], [])

    def add(self, info: dict) -> None:
        """Append one step from a Walk-v0 step info."""
        self.command.append(np.array([info["cmd_vx"], info["cmd_vy"], info["cmd_yaw_rate"]], dtype=float))
        self.measured.append(np.array([info["vx"], info["vy"], info["yaw_rate"]], dtype=float))
        self.contact.append(np.array([info["contact_left"], info["contact_right"]], dtype=bool))
        self.slip_m_s.append(float(info["foot_slip_m_s"]))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(command (k, 3), measured (k, 3), contact (k, 2), slip (k,))."""
        return np.array(self.command), np.array(self.measured), np.array(self.contact), np.array(self.slip_m_s)


@dataclass(frozen=True)
class WalkMetrics:
    """Walking figures over all episodes."""

    lin_vel_error_m_s: float
    """Mean |v̄_xy − v*_xy| over settled moving and standing steps (m/s), v̄ the stride-average velocity."""
    yaw_rate_error_rad_s: float
    """Mean |ω̄_z − ω*_z| over settled steps (rad/s)."""
    stand_drift_m_s: float
    """Mean |v̄_xy| over settled steps commanded to stand (m/s); NaN when no step was."""
    foot_slip_m_s: float
    """Mean speed of the feet in contact (m/s)."""
    step_frequency_hz: float
    """Touchdowns per foot per second."""


def smoothed(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over `window` steps (fewer at the start), (k, d) → (k, d)."""
    c = np.cumsum(np.vstack([np.zeros((1, values.shape[1])), values]), axis=0)
    k = np.arange(1, len(values) + 1)
    lo = np.maximum(k - window, 0)
    return (c[k] - c[lo]) / (k - lo)[:, None]


def settled(command: np.ndarray, settle_steps: int) -> np.ndarray:
    """True at steps at least `settle_steps` after the episode start and after the last command change, (k,)."""
    change = np.r_[True, np.any(command[1:] != command[:-1], axis=1)]
    last = np.maximum.accumulate(np.where(change, np.arange(len(command)), 0))
    return np.arange(len(command)) - last >= settle_steps


def walk_metrics(logs: Sequence[WalkLog], gait_frequency_hz: float | None) -> WalkMetrics:
    """The figures of WalkMetrics over the episodes in `logs`."""
    lin, yaw, drift, slip, touchdowns, seconds = [], [], [], [], 0, 0.0
    for log in logs:
        command, measured, contact, slip_m_s = log.arrays()
        if not len(command):
            continue
        period = 1.0 / gait_frequency_hz if gait_frequency_hz else DEFAULT_WINDOW_S
        mean = smoothed(measured, max(1, round(period / log.dt_s)))
        ok = settled(command, round(SETTLE_S / log.dt_s))
        lin.append(np.linalg.norm(mean[ok, :2] - command[ok, :2], axis=1))
        yaw.append(np.abs(mean[ok, 2] - command[ok, 2]))
        still = ok & standing(command)
        drift.append(np.linalg.norm(mean[still, :2], axis=1))
        slip.append(slip_m_s)
        touchdowns += int((contact[1:] & ~contact[:-1]).sum())
        seconds += len(command) * log.dt_s

    def mean_of(parts: list[np.ndarray]) -> float:
        joined = np.concatenate(parts) if parts else np.zeros(0)
        return float(joined.mean()) if len(joined) else float("nan")

    return WalkMetrics(
        lin_vel_error_m_s=mean_of(lin),
        yaw_rate_error_rad_s=mean_of(yaw),
        stand_drift_m_s=mean_of(drift),
        foot_slip_m_s=mean_of(slip),
        step_frequency_hz=touchdowns / 2.0 / seconds if seconds else float("nan"),
    )


@dataclass(frozen=True)
class Segment:
    """A stretch of constant command and the stride-average velocity the robot walked at over it."""

    start_s: float
    """Start of the command (s, the log's clock)."""
    duration_s: float
    """How long the command held (s)."""
    command: tuple[float, float, float]
    """(vx m/s, vy m/s, yaw rate rad/s) commanded."""
    measured: tuple[float, float, float]
    """Mean measured (vx, vy, yaw rate) over the segment after its first SETTLE_S."""


def command_segments(times_s: np.ndarray, command: np.ndarray, measured: np.ndarray) -> list[Segment]:
    """The stretches of constant command longer than SETTLE_S, with their settled mean velocity, in order."""
    times_s, command, measured = np.asarray(times_s), np.asarray(command), np.asarray(measured)
    change = np.r_[True, np.any(command[1:] != command[:-1], axis=1), True]
    starts = np.flatnonzero(change)
    out = []
    for a, b in itertools.pairwise(starts):
        settled_part = times_s[a:b] >= times_s[a] + SETTLE_S
        if settled_part.any():
            mean = measured[a:b][settled_part].mean(axis=0)
            out.append(
                Segment(
                    float(times_s[a]),
                    float(times_s[b - 1] - times_s[a]),
                    tuple(float(v) for v in command[a]),
                    tuple(float(v) for v in mean),
                )
            )
    return out


def plot_walk(log: WalkLog, path: str | Path, title: str, gait_frequency_hz: float | None = None) -> Path:
    """PNG: commanded vs measured vx, vy and yaw rate over time, and the feet's contact (gait diagram)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    command, measured, contact, _ = log.arrays()
    t = np.arange(len(command)) * log.dt_s
    period = 1.0 / gait_frequency_hz if gait_frequency_hz else DEFAULT_WINDOW_S
    mean = smoothed(measured, max(1, round(period / log.dt_s)))
    fig, axes = plt.subplots(4, 1, figsize=(10, 8), sharex=True, gridspec_kw={"height_ratios": [2, 2, 2, 1]})
    labels = ("vx (m/s)", "vy (m/s)", "yaw rate (rad/s)")
    for i, ax in enumerate(axes[:3]):
        ax.plot(t, measured[:, i], color="0.75", lw=0.8, label="measured")
        ax.plot(t, mean[:, i], color="tab:blue", lw=1.5, label="measured, stride average")
        ax.plot(t, command[:, i], color="tab:red", lw=1.5, ls="--", label="commanded")
        ax.set_ylabel(labels[i])
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper right", fontsize=8)
    axes[0].set_title(title)
    for foot in range(2):
        on = contact[:, foot]
        edges = np.flatnonzero(np.diff(np.r_[0, on.astype(int), 0]))
        spans = [
            (t[a] if a < len(t) else t[-1], (b - a) * log.dt_s) for a, b in zip(edges[::2], edges[1::2], strict=True)
        ]
        axes[3].broken_barh(spans, (1 - foot - 0.4, 0.8), color="tab:green" if foot == 0 else "tab:orange")
    axes[3].set_yticks([1, 0], ["left", "right"])
    axes[3].set_ylabel("contact")
    axes[3].set_xlabel("time (s)")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
