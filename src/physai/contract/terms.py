"""The registry of observation terms a policy contract may name, and the math behind them.

A term reads one quantity from the observation inputs (any object with the attributes below, e.g. a
`physai.sim.RobotState`), the velocity command, the previous action or the gait clock, and returns it as a
float64 array of shape (..., size), unscaled. Sizes are 3, 4 (gait_phase) or the contract's number of joints.
Frames follow REP-103/REP-145: IMU quantities are in the IMU frame, orientations are (w, x, y, z) quaternions of the IMU in the world.

| term | size | reads | meaning |
|---|---|---|---|
| base_ang_vel | 3 | inputs.gyro | angular velocity in the IMU frame (rad/s) |
| projected_gravity | 3 | inputs.imu_quat | unit gravity direction in the IMU frame; (0, 0, −1) when upright |
| velocity_command | 3 | command | (vx m/s, vy m/s, yaw rate rad/s) in the base frame |
| joint_pos_rel | n | inputs.joint_pos | joint_pos − default_pos (rad or m), contract joint order |
| joint_vel | n | inputs.joint_vel | joint velocities (rad/s or m/s), contract joint order |
| last_action | n | last_action | the previous policy action after the contract clip (before scale); zeros after reset |
| base_lin_vel | 3 | inputs.base_lin_vel | linear velocity in the IMU frame (m/s); PRIVILEGED (simulation truth) |
| target_pos | 3 | inputs.target_pos | reaching target relative to the base, in the base frame (m) |
| ee_pos | 3 | inputs.ee_pos | end-effector position relative to the base, in the base frame (m) |
| gait_phase | 4 | clock | (sin φ_L, cos φ_L, sin φ_R, cos φ_R) of the gait clock, `gait_clock` |

The gait clock is the one time source every deployment shares: time since the observation builder's last
reset, counted in policy steps (steps × control_dt_s), at the contract's `gait_frequency_hz`. The training
env, the ROS policy node, sim2sim and HIL all build observations with `ObservationBuilder`, so they compute
the phase with the same function from the same count; nothing on the deploy side reimplements it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TermDef:
    """One entry of the observation-term registry."""

    name: str
    """Term name as written in contracts."""
    per_joint: bool
    """True: size is the contract's number of joints; False: size 3."""
    source: str
    """Where the raw value comes from: `inputs.<attribute>`, `command`, `last_action` or `clock`."""
    raw_size: int | None
    """Trailing size of the raw value (None: the number of joints)."""
    doc: str
    """One line: meaning and units."""
    transform: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    """Maps (raw value (..., raw_size), default_pos (n,)) to the term (..., size); None for identity."""
    privileged: bool = False
    """True for simulation-truth quantities a real robot does not measure (allowed; use with care)."""
    fixed_size: int = 3
    """Size of a term that is not per joint."""

    def size(self, n_joints: int) -> int:
        """Number of values this term contributes per history step."""
        return n_joints if self.per_joint else self.fixed_size

    def compute(
        self, inputs: Any, command: Any, last_action: Any, default_pos: np.ndarray, clock: Any = None
    ) -> np.ndarray:
        """The unscaled term, float64 (..., size). Raises ValueError naming the missing or misshapen input.

        `clock`: the gait clock (..., 4) from `gait_clock`, or None when the contract has no gait_phase term.
        """
        n = len(default_pos)
        raw_size = n if self.raw_size is None else self.raw_size
        if self.source == "command":
            value, label = command, "command"
        elif self.source == "clock":
            value, label = clock, "the gait clock"
        elif self.source == "last_action":
            value, label = last_action, "last_action"
        else:
            attr = self.source.removeprefix("inputs.")
            value, label = getattr(inputs, attr, None), self.source
            if value is None:
                raise ValueError(
                    f"observation term '{self.name}' needs {label} (shape (..., {raw_size})); "
                    f"the inputs ({type(inputs).__name__}) have no '{attr}'"
                )
        if value is None:
            raise ValueError(f"observation term '{self.name}' needs {label} (shape (..., {raw_size})); got None")
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim == 0 or arr.shape[-1] != raw_size:
            what = " in contract joint order" if self.raw_size is None else ""
            raise ValueError(
                f"observation term '{self.name}': {label} has shape {arr.shape}; expected (..., {raw_size}){what}"
            )
        return arr if self.transform is None else self.transform(arr, default_pos)


def projected_gravity(quat: np.ndarray) -> np.ndarray:
    """Unit gravity direction in the body frame from the body's world orientation (w, x, y, z), (..., 4) → (..., 3).

    Equals Rᵀ·(0, 0, −1) with R the body-to-world rotation: (0, 0, −1) upright, +x when pitched nose-down,
    −y when rolled right (positive rotation about x). The quaternion is normalised first; a zero quaternion
    gives NaN (which the safety layer rejects) rather than a plausible-looking vector.
    """
    q = np.asarray(quat, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    # Third row of R (body→world) is Rᵀ·ẑ; gravity points along −ẑ.
    return -np.stack([2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y)], axis=-1)


def gait_phase(time_s: Any, frequency_hz: float) -> np.ndarray:
    """Phase in [0, 1) of the left and right foot at clock time `time_s` (s), shape (...) → (..., 2).

    φ_L = frac(f·t), φ_R = frac(f·t + 0.5): the feet alternate, each half period. The walk task counts
    φ < gait.stance_fraction (0.55) as stance, the rest as swing.
    """
    left = np.mod(np.asarray(time_s, dtype=np.float64) * frequency_hz, 1.0)
    return np.stack([left, np.mod(left + 0.5, 1.0)], axis=-1)


def gait_clock(time_s: Any, frequency_hz: float) -> np.ndarray:
    """The gait_phase observation term: (sin 2πφ_L, cos 2πφ_L, sin 2πφ_R, cos 2πφ_R), (...) → (..., 4)."""
    angle = 2.0 * np.pi * gait_phase(time_s, frequency_hz)
    return np.stack([np.sin(angle[..., 0]), np.cos(angle[..., 0]), np.sin(angle[..., 1]), np.cos(angle[..., 1])], -1)


def _relative_to_default(raw: np.ndarray, default_pos: np.ndarray) -> np.ndarray:
    return raw - default_pos


def _gravity(raw: np.ndarray, _default_pos: np.ndarray) -> np.ndarray:
    return projected_gravity(raw)


OBSERVATION_TERMS: dict[str, TermDef] = {
    t.name: t
    for t in (
        TermDef("base_ang_vel", False, "inputs.gyro", 3, "IMU angular velocity in the IMU frame (rad/s)"),
        TermDef(
            "projected_gravity",
            False,
            "inputs.imu_quat",
            4,
            "unit gravity direction in the IMU frame, (0, 0, −1) upright",
            transform=_gravity,
        ),
        TermDef("velocity_command", False, "command", 3, "commanded (vx m/s, vy m/s, yaw rate rad/s), base frame"),
        TermDef(
            "joint_pos_rel",
            True,
            "inputs.joint_pos",
            None,
            "joint_pos − default_pos (rad or m)",
            transform=_relative_to_default,
        ),
        TermDef("joint_vel", True, "inputs.joint_vel", None, "joint velocities (rad/s or m/s)"),
        TermDef(
            "last_action", True, "last_action", None, "previous policy action after the contract clip (before scale)"
        ),
        TermDef(
            "base_lin_vel",
            False,
            "inputs.base_lin_vel",
            3,
            "linear velocity in the IMU frame (m/s); privileged simulation truth",
            privileged=True,
        ),
        TermDef("target_pos", False, "inputs.target_pos", 3, "reaching target relative to the base, base frame (m)"),
        TermDef("ee_pos", False, "inputs.ee_pos", 3, "end-effector position relative to the base, base frame (m)"),
        TermDef(
            "gait_phase",
            False,
            "clock",
            4,
            "gait clock (sin φ_L, cos φ_L, sin φ_R, cos φ_R) at the contract's gait_frequency_hz",
            fixed_size=4,
        ),
    )
}
"""Every observation term a contract may name, by name."""
