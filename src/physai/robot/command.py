"""JointCommand: the MIT-mode command every actuator path shares (simulator, safety guard, virtual motors, CAN).

τ = kp·(q* − q) + kd·(dq* − dq) + τ_ff, clamped to ±effort by the actuator. Arrays are in joint (action)
order with shape (..., n_joints): () leading dims for one robot, (nsim,) for a batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physai.robot.spec import RobotSpec

_FIELDS = ("q", "dq", "kp", "kd", "tau_ff")


@dataclass(frozen=True)
class JointCommand:
    """Per-joint targets and gains, each of shape (..., n_joints)."""

    q: np.ndarray
    """Target position q* (rad or m)."""
    dq: np.ndarray
    """Target velocity dq* (rad/s or m/s)."""
    kp: np.ndarray
    """Position gain (N·m/rad), ≥ 0."""
    kd: np.ndarray
    """Damping gain (N·m·s/rad), ≥ 0."""
    tau_ff: np.ndarray
    """Feed-forward torque (N·m or N)."""

    @classmethod
    def hold(cls, spec: RobotSpec, q: np.ndarray | None = None) -> JointCommand:
        """Hold `q` (default: the spec's default pose) with the spec's default gains."""
        n = spec.n_joints
        target = spec.default_pose if q is None else np.asarray(q, dtype=np.float64)
        return cls(q=target, dq=np.zeros(n), kp=spec.kp, kd=spec.kd, tau_ff=np.zeros(n))

    @classmethod
    def damping(cls, spec: RobotSpec, kd: float | np.ndarray) -> JointCommand:
        """Pure damping: kp = 0, dq* = 0, τ_ff = 0, the given kd (N·m·s/rad)."""
        n = spec.n_joints
        return cls(
            q=np.zeros(n),
            dq=np.zeros(n),
            kp=np.zeros(n),
            kd=np.broadcast_to(np.asarray(kd, np.float64), (n,)).copy(),
            tau_ff=np.zeros(n),
        )

    def validated(self, n_joints: int, batch_shape: tuple[int, ...] = ()) -> JointCommand:
        """Return float64 arrays broadcast to batch_shape + (n_joints,); raise ValueError naming a bad field.

        A bad field is one with the wrong length, a NaN/Inf, or (for kp, kd) a negative value. This runs on
        every control tick, so the good path is one stacked copy and two vectorised checks.
        """
        shape = (*batch_shape, n_joints)
        stacked = np.empty((len(_FIELDS), *shape))
        name = _FIELDS[0]
        try:
            for row, name in enumerate(_FIELDS):
                stacked[row] = getattr(self, name)
        except (ValueError, TypeError):
            got = np.shape(getattr(self, name))
            raise ValueError(f"JointCommand.{name} has shape {got}; expected {shape} (one value per joint)") from None
        if not np.isfinite(stacked).all():
            name = _FIELDS[int(np.argmin(np.isfinite(stacked).reshape(len(_FIELDS), -1).all(axis=1)))]
            raise ValueError(f"JointCommand.{name} contains NaN or Inf; expected finite values")
        gains = stacked[2:4]
        if (gains < 0).any():
            name = "kp" if (gains[0] < 0).any() else "kd"
            raise ValueError(f"JointCommand.{name} has a negative gain {gains.min():g}; expected ≥ 0")
        return JointCommand(*stacked)

    def to_ctrl(self) -> np.ndarray:
        """MuJoCo ctrl for the PD actuators of physai.sim.mjcf: kp·q* + kd·dq* + τ_ff, shape (..., n_joints)."""
        return self.kp * self.q + self.kd * self.dq + self.tau_ff
