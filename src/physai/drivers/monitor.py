"""FaultMonitor: what the motors' feedback says about their health, one check per control tick (no ROS).

    monitor = FaultMonitor(MonitorConfig(max_temperature_c=80.0), spec.joint_names)
    faults = monitor.check(feedback, last_sent, now_s)     # {joint: reason}, empty when healthy

Faults, per joint, in order of precedence (the first that applies is the reason):

* stale: a command left unanswered for longer than the hardware config's stale timeout (`MotorFeedback.stale`);
* drive error: a non-zero error code / fault bits in the reply;
* over-temperature: the reported temperature above `max_temperature_c` (°C; NaN = not reported);
* implausible jump: the position moved more than `max_jump_rad` between two consecutive checks;
* frozen: the motor keeps sending replies that are bit-identical (position, velocity, torque) for
  `frozen_window_s` after the PD torque its commands ask for has moved by more than
  `frozen_torque_spread_nm`: a live drive's readings would change. Only replies count: a tick without a new
  reply (lost frame, a slower plant) neither extends nor breaks a run, so packet loss alone is never a frozen
  motor. A motor whose command does not move cannot be told from a still joint and is not flagged. A command
  counts only from the reply after the first one that followed it: that first reply may come from before the
  command acted. The window runs from the torque's move, not from the start of the run: after a stall the
  queued commands are all answered from one state, and those identical replies come in over the wire for as
  long as the bus takes to drain them (tens of ms on a loaded bus), so a joint that stood still before a
  guard-mode change (active → damping) is not judged on them.

Arrays are joint-side, SI, in RobotSpec joint order, shape (n_joints,). Times are seconds on one clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from physai.drivers.bus import MotorFeedback
from physai.robot.command import JointCommand


@dataclass(frozen=True)
class MonitorConfig:
    """Thresholds of the feedback fault checks."""

    max_temperature_c: float = 80.0
    """A motor hotter than this is faulted (°C)."""
    max_jump_rad: float = 0.3
    """A position change larger than this between two checks is implausible (rad)."""
    frozen_window_s: float = 0.2
    """Bit-identical replies for this long (s) after the commanded torque moved → frozen."""
    frozen_torque_spread_nm: float = 1.0
    """Spread of the commanded PD torque (N·m) that a live motor cannot hide behind identical replies."""


class FaultMonitor:
    """Feedback fault detection for n joints; keeps the little history the jump and frozen checks need."""

    def __init__(self, config: MonitorConfig, joint_names: Sequence[str]) -> None:
        self.config = config
        self.joint_names = tuple(joint_names)
        n = len(self.joint_names)
        self._previous_q: np.ndarray | None = None
        self._last_reply = np.full((3, n), np.nan)  # q, dq, τ of each joint's latest reply
        self._same_since = np.full(n, np.inf)  # time the current run of identical replies began (s)
        self._torque_min = np.full(n, np.inf)  # commanded PD torque range the run's replies could show (N·m)
        self._torque_max = np.full(n, -np.inf)
        self._pending_min = np.full(n, np.inf)  # commanded since the latest reply: shown from the next one on
        self._pending_max = np.full(n, -np.inf)
        self._moved_since = np.full(n, np.inf)  # time (s) the run's torque range first exceeded the spread

    def frozen(self, fb: MotorFeedback, last_sent: JointCommand | None, now_s: float) -> np.ndarray:
        """Per joint: identical replies for `frozen_window_s` after the commanded torque moved (bool)."""
        current = np.stack((fb.position, fb.velocity, fb.torque))
        same = fb.fresh & np.all(current == self._last_reply, axis=0)
        broken = fb.fresh & ~same  # a reply that differs ends the run
        self._last_reply = np.where(fb.fresh, current, self._last_reply)
        self._same_since = np.where(
            same, np.minimum(self._same_since, now_s), np.where(broken, np.inf, self._same_since)
        )
        running = np.isfinite(self._same_since)
        # the window runs from the first reply that could already show a move (the range holds only commands
        # sent before the previous reply; a guard-mode change on a still joint is not a frozen motor)
        moved = fb.fresh & running & (self._torque_max - self._torque_min > self.config.frozen_torque_spread_nm)
        self._moved_since = np.where(
            moved, np.minimum(self._moved_since, now_s), np.where(running, self._moved_since, np.inf)
        )
        frozen = running & (now_s - self._moved_since >= self.config.frozen_window_s)
        if last_sent is not None:
            c = last_sent
            torque = c.kp * (c.q - fb.position) + c.kd * (c.dq - fb.velocity) + c.tau_ff
            self._pending_min = np.minimum(self._pending_min, torque)
            self._pending_max = np.maximum(self._pending_max, torque)
        # a reply: what was commanded before it shows from the next reply on (a new run starts with just that)
        self._torque_min = np.where(
            fb.fresh, np.where(running, np.minimum(self._torque_min, self._pending_min), self._pending_min),
            self._torque_min,
        )  # fmt: skip
        self._torque_max = np.where(
            fb.fresh, np.where(running, np.maximum(self._torque_max, self._pending_max), self._pending_max),
            self._torque_max,
        )  # fmt: skip
        self._pending_min = np.where(fb.fresh, np.inf, self._pending_min)
        self._pending_max = np.where(fb.fresh, -np.inf, self._pending_max)
        return frozen

    def check(self, fb: MotorFeedback, last_sent: JointCommand | None, now_s: float) -> dict[str, str]:
        """Fault reasons by joint for one feedback sample (empty: all healthy).

        Args:
            fb: The latest feedback (`ActuatorBus.read_state`).
            last_sent: What the previous tick sent (joint side), for the frozen check; None before any.
            now_s: The time of this check (s).
        """
        cfg = self.config
        frozen = self.frozen(fb, last_sent, now_s)
        jump = fb.position - self._previous_q if self._previous_q is not None else np.zeros_like(fb.position)
        self._previous_q = fb.position
        hot = np.nan_to_num(fb.temperature_c, nan=-np.inf) > cfg.max_temperature_c
        bad = fb.stale | (fb.error != 0) | hot | (np.abs(jump) > cfg.max_jump_rad) | frozen
        faults = {}
        for i in np.flatnonzero(bad).tolist():
            if fb.stale[i]:
                why = f"stale feedback ({fb.age_s[i] * 1000:.0f} ms old)"
            elif fb.error[i]:
                why = f"drive error code {int(fb.error[i])}"
            elif hot[i]:
                why = f"over-temperature {fb.temperature_c[i]:.0f} °C"
            elif abs(jump[i]) > cfg.max_jump_rad:
                why = f"implausible jump {jump[i]:+.2f} rad in one tick"
            else:
                spread = self._torque_max[i] - self._torque_min[i]
                why = f"frozen feedback: identical replies while the commanded torque moved {spread:.1f} N·m"
            faults[self.joint_names[i]] = why
        return faults
