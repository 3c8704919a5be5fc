"""ActuatorBus: the hardware boundary (no ROS). A driver node talks to motors only through this interface.

Everything crossing it is joint-side and SI (rad, rad/s, N·m) in RobotSpec joint order, shape (n_joints,);
implementations map to motor side with `to_motor` / `to_joint` (direction, gear, zero offset, see
physai.drivers.config) and return from `write_command` what was really sent after the codec's clamping and
quantization, so the node publishes and records the truth.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from physai.drivers.config import HardwareConfig
from physai.robot.command import JointCommand


@dataclass(frozen=True)
class MotorFeedback:
    """Latest feedback per joint; arrays (n_joints,)."""

    position: np.ndarray
    """Joint position (rad)."""
    velocity: np.ndarray
    """Joint velocity (rad/s)."""
    torque: np.ndarray
    """Joint torque (N·m)."""
    temperature_c: np.ndarray
    """Motor temperature (°C), NaN where the protocol reports none."""
    error: np.ndarray
    """Drive error / fault bits, 0 = none (int)."""
    age_s: np.ndarray
    """How long this motor has left commands unanswered (s): the time since the first command sent after its
    last reply, 0 while every command has been answered, inf before its first reply. A host that stalls
    between two ticks does not age its motors: they answered everything they were sent."""
    stale: np.ndarray
    """age_s > the config's stale_timeout_s (bool)."""
    fresh: np.ndarray
    """A reply arrived since the previous read (bool): unchanged values without one are not a frozen motor."""


class ActuatorBus(ABC):
    """A set of motors on one bus, one per joint of the robot."""

    def __init__(self, config: HardwareConfig) -> None:
        self.config = config
        self.n_joints = len(config.motors)

    @abstractmethod
    def enable(self) -> None:
        """Put every motor into its command mode (MIT: enter motor mode; Robstride: run mode 0 + enable)."""

    @abstractmethod
    def disable(self) -> None:
        """Leave command mode (MIT: exit motor mode; Robstride: stop). Sent on a clean exit."""

    @abstractmethod
    def write_command(self, command: JointCommand, now_s: float) -> JointCommand:
        """Send one command per motor; return, joint-side, what was actually encoded on the wire."""

    @abstractmethod
    def read_state(self, now_s: float) -> MotorFeedback:
        """Take in every reply received so far; return the latest feedback per joint."""

    @abstractmethod
    def not_running(self) -> list[str]:
        """Joints whose motor has not confirmed it is in command mode (start-up waits for an empty list)."""

    @abstractmethod
    def health(self) -> dict[str, str]:
        """Counters for diagnostics (frames sent/received, decode errors, bus errors)."""

    def estop(self, kd: np.ndarray, now_s: float) -> JointCommand:
        """Damping on every motor at once (kp = 0, τ_ff = 0, the given kd, N·m·s/rad); returns what was sent."""
        zeros = np.zeros(self.n_joints)
        return self.write_command(JointCommand(zeros, zeros, zeros, np.asarray(kd, np.float64), zeros), now_s)

    @abstractmethod
    def close(self) -> None:
        """Release the bus (python-can shutdown)."""


def to_motor(config: HardwareConfig, command: JointCommand) -> JointCommand:
    """Joint-side command → motor side: q_m = d·g·q + o, dq_m = d·g·dq, τ_m = d·τ/g, kp/g², kd/g²."""
    d, g, o = config.direction, config.gear, config.offset
    return JointCommand(
        q=d * g * command.q + o,
        dq=d * g * command.dq,
        kp=command.kp / g**2,
        kd=command.kd / g**2,
        tau_ff=d * command.tau_ff / g,
    )


def to_joint(config: HardwareConfig, command: JointCommand) -> JointCommand:
    """Motor-side command → joint side (the inverse of `to_motor`)."""
    d, g, o = config.direction, config.gear, config.offset
    return JointCommand(
        q=(command.q - o) / (d * g),
        dq=command.dq / (d * g),
        kp=command.kp * g**2,
        kd=command.kd * g**2,
        tau_ff=d * command.tau_ff * g,
    )


def feedback_to_joint(
    config: HardwareConfig, position: np.ndarray, velocity: np.ndarray, torque: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Motor-side (q_m, dq_m, τ_m) → joint side (q, dq, τ)."""
    d, g, o = config.direction, config.gear, config.offset
    return (position - o) / (d * g), velocity / (d * g), d * torque * g


def feedback_to_motor(
    config: HardwareConfig, position: np.ndarray, velocity: np.ndarray, torque: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Joint-side (q, dq, τ) → motor side (what a motor reports)."""
    d, g, o = config.direction, config.gear, config.offset
    return d * g * position + o, d * g * velocity, d * torque / g
