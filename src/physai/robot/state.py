"""RobotState, base tilt and the one fall rule: what the robot reports, without MuJoCo, ROS or torch.

The simulator fills RobotState from MuJoCo (physai.sim.state); ROS messages carry it on the robot
(physai.ros.convert). `FallRule` is the single definition of "fallen" used by the balance env's termination,
the headless hold check, recorded-run summaries (demo, HIL) and sim2sim: base tilt above `max_tilt_rad` or
base height below `min_height_fraction` × its start height. The height fraction is 0.6, the value policies are
trained and terminated with (sim_envs/tasks/balance.yaml); summaries used 0.5 before, so a run that sank to
half height without tipping over counted as standing there and as fallen in training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RobotState:
    """What a robot's sensors and the simulation report. Leading dims `...` are () or (nsim,).

    Frames follow REP-103/REP-145: world z up; IMU quantities in the IMU site frame.
    """

    time_s: np.ndarray
    """Simulation time (s), shape (...)."""
    joint_pos: np.ndarray
    """Joint positions (rad or m), (..., n_joints)."""
    joint_vel: np.ndarray
    """Joint velocities (rad/s or m/s), (..., n_joints)."""
    joint_torque: np.ndarray
    """Torque actually applied by each actuator after clamping (N·m or N), (..., n_joints)."""
    base_pos: np.ndarray
    """Base position in the world (m), (..., 3); zeros for a fixed base (simulation truth)."""
    base_quat: np.ndarray
    """Base orientation in the world (w, x, y, z), (..., 4); identity for a fixed base."""
    base_lin_vel: np.ndarray
    """Linear velocity of the IMU site in the IMU frame (m/s), (..., 3) (simulation truth)."""
    gyro: np.ndarray
    """IMU angular velocity in the IMU frame (rad/s), (..., 3)."""
    accel: np.ndarray
    """IMU specific force in the IMU frame (m/s², +9.81 z when level and still), (..., 3)."""
    imu_quat: np.ndarray
    """IMU orientation in the world (w, x, y, z), (..., 4)."""
    foot_contact: np.ndarray
    """True where a foot body touches anything, (..., n_feet) bool."""


def quat_to_matrix(quat: np.ndarray) -> np.ndarray:
    """3×3 rotation of a (w, x, y, z) quaternion (normalised first)."""
    w, x, y, z = np.asarray(quat, dtype=np.float64) / np.linalg.norm(quat)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def tilt_rad(quat: np.ndarray) -> np.ndarray:
    """Angle between a body's z axis and world z (rad) from its (w, x, y, z) quaternion, shape (..., 4) → (...)."""
    x, y = quat[..., 1], quat[..., 2]
    return np.arccos(np.clip(1.0 - 2.0 * (x * x + y * y), -1.0, 1.0))


@dataclass(frozen=True)
class FallRule:
    """When a floating-base robot has fallen."""

    max_tilt_rad: float = 0.8
    """Fallen when the base tilts more than this from upright (rad)."""
    min_height_fraction: float = 0.6
    """Fallen when the base is lower than this fraction of its start height."""

    def fallen(self, tilt: np.ndarray | float, height_m: np.ndarray | float, start_height_m: float) -> np.ndarray:
        """Elementwise: tilt (rad) and base height (m) of shape (...), the start height (m) → bool (...)."""
        return (np.asarray(tilt) > self.max_tilt_rad) | (
            np.asarray(height_m) < self.min_height_fraction * start_height_m
        )


FALL = FallRule()
"""The rule every check uses unless a task configures its own thresholds (BalanceConfig defaults to these)."""
