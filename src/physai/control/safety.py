"""SafetyGuard: every command to the actuators passes here, in whichever node drives them (no ROS).

What it does, in order of precedence:

1. **E-stop / fault**: `estop(True)` or `trip(reason)` (a hardware fault seen by the driver) latches damping;
   with `estop_stop="hold"` an e-stop instead holds the pose measured when it engaged, at the default gains.
   Releasing the e-stop is not enough; `rearm()` is also needed, and the next command then soft-starts from
   the measured pose.
2. **Command timeout**: no valid command for `timeout_s` → damping (kp = 0, kd = damping gain, τ_ff = 0).
   Once the guard has been passing commands through (ACTIVE), a timeout latches: the commander died or
   stalled, and a respawned one must not take the robot back on its own. Commands arriving later change
   nothing until `rearm()` (an operator act, e.g. the ~/rearm topic); the next command then soft-starts from
   the measured pose. During start-up (WAITING, SOFT_START) nothing latches: a commander whose first steps
   are slow delays arming (the next command soft-starts again from the measured pose), it does not trip it.
3. **Validation** (`submit`): a message naming an unknown joint or the same joint twice, with NaN/Inf, or
   with arrays whose lengths disagree with its names is rejected whole and counted; the previous targets stay.
4. **Clamping**: position targets to [lower, upper], velocity targets to ±velocity limit, feed-forward
   torque to ±effort, gains to [0, max_gain_scale × default gain]; each clamp is counted.
5. **Soft start**: after (re)arming, the position target ramps linearly from the measured pose to the
   commanded one over `soft_start_s`.

`output(now_s, measured_q)` returns the JointCommand to apply now; that is also what the node publishes and
records, so the record shows what really went to the actuators. Times are seconds on one monotonic clock
(or sim time); arrays are in the spec's joint order, shape (n_joints,).
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from physai.errors import FieldError
from physai.robot.command import JointCommand
from physai.robot.spec import RobotSpec


class GuardMode(enum.Enum):
    """What the guard is sending to the actuators."""

    WAITING = "waiting"
    """No command yet since arming: damping."""
    SOFT_START = "soft_start"
    """Ramping from the measured pose to the commanded pose."""
    ACTIVE = "active"
    """Passing (clamped) commands through."""
    TIMEOUT = "timeout"
    """Commands stopped arriving: damping; latched until `rearm` if the guard had been active."""
    ESTOP = "estop"
    """E-stop latched (or released but not re-armed): damping."""
    FAULT = "fault"
    """A hardware fault tripped the guard (stale motor, over-temperature, drive error, implausible jump):
    damping until `rearm`."""


class Event(enum.Enum):
    """Counted guard events, reported on /diagnostics."""

    ACCEPTED = "accepted"
    REJECTED_NAN = "rejected_nan"
    REJECTED_UNKNOWN_JOINT = "rejected_unknown_joint"
    REJECTED_DUPLICATE_JOINT = "rejected_duplicate_joint"
    REJECTED_LENGTH = "rejected_length_mismatch"
    CLAMPED_POSITION = "clamped_position"
    CLAMPED_VELOCITY = "clamped_velocity"
    CLAMPED_TORQUE = "clamped_torque"
    CLAMPED_GAIN = "clamped_gain"
    TIMEOUT = "timeout"
    ESTOP = "estop"
    FAULT = "fault"
    REARM = "rearm"


@dataclass(frozen=True)
class GuardConfig:
    """SafetyGuard settings: the one source of their defaults (sim_node and driver_node parameters take them)."""

    timeout_s: float = 0.05
    """No valid command for this long (s) → damping. 2.5 periods of a 50 Hz policy."""
    damping_kd_scale: float = 1.0
    """Damping gain = this × the joint's default kd (N·m·s/rad)."""
    soft_start_s: float = 0.5
    """Ramp duration (s) from the measured pose to the first commanded pose after (re)arming."""
    max_gain_scale: float = 3.0
    """Commanded kp/kd are clamped to [0, this × default gain]."""
    estop_stop: str = "damping"
    """What an operator e-stop does: "damping" (kp = 0: a standing biped sinks) or "hold" (the pose measured when
    it engages is held with the robot's default gains, robot.yaml kp/kd, as a drive's own safe stop does). A
    fault or a command timeout always damps."""

    def __post_init__(self) -> None:
        for name in ("timeout_s", "damping_kd_scale", "max_gain_scale"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise FieldError("", name, value, "a finite number > 0")
        if not (np.isfinite(self.soft_start_s) and self.soft_start_s >= 0):
            raise FieldError("", "soft_start_s", self.soft_start_s, "a finite number ≥ 0")
        if self.estop_stop not in ("damping", "hold"):
            raise FieldError("", "estop_stop", self.estop_stop, "damping or hold")


@dataclass(frozen=True)
class Rejection:
    """Why `submit` refused a command (the whole message is dropped)."""

    event: Event
    detail: str


class SafetyGuard:
    """Validates, clamps and times out actuator commands for one robot."""

    def __init__(self, spec: RobotSpec, config: GuardConfig | None = None) -> None:
        self.spec = spec
        self.config = config or GuardConfig()
        self.events: Counter[Event] = Counter()
        self._index = {name: i for i, name in enumerate(spec.joint_names)}
        self._lower, self._upper = spec.lower, spec.upper
        self._vmax, self._tmax = spec.velocity_limit, spec.effort_limit
        self._kp_max = spec.kp * self.config.max_gain_scale
        self._kd_max = spec.kd * self.config.max_gain_scale
        self._damping = JointCommand.damping(spec, spec.kd * self.config.damping_kd_scale)
        self._target = JointCommand.hold(spec)  # complete per-joint targets; messages update a subset
        self._last_command_s: float | None = None
        self._ramp_start_s: float | None = None
        self._ramp_from: np.ndarray | None = None
        self._estop_latched = False
        self._estop_hold: JointCommand | None = None  # estop_stop "hold": the pose measured when it engaged
        self._armed = True
        self._timeout_latched = False  # a timeout after commands had passed: damping until rearm()
        self.fault_reason = ""
        """Why the guard tripped (empty when it has not)."""
        self.mode = GuardMode.WAITING

    # ---- inputs ----------------------------------------------------------------------------------
    def submit(
        self,
        names: Sequence[str],
        position: Sequence[float],
        velocity: Sequence[float] = (),
        effort: Sequence[float] = (),
        now_s: float = 0.0,
        kp: Sequence[float] | None = None,
        kd: Sequence[float] | None = None,
    ) -> Rejection | None:
        """Offer a command (sensor_msgs/JointState semantics: names select joints; empty velocity/effort = 0).

        Returns None if accepted (possibly clamped), else the Rejection; a rejected message changes nothing.
        `kp`/`kd` default to the current gains (the contract's, set with `set_gains`).
        """
        rejection = self._validate(names, position, velocity, effort, kp, kd)
        if rejection is not None:
            self.events[rejection.event] += 1
            return rejection
        idx = np.fromiter((self._index[n] for n in names), dtype=np.int64, count=len(names))
        target = self._target
        q = self._clamp(np.asarray(position, np.float64), self._lower[idx], self._upper[idx], Event.CLAMPED_POSITION)
        target.q[idx] = q
        target.dq[idx] = self._clamp(
            _or_zeros(velocity, len(idx)), -self._vmax[idx], self._vmax[idx], Event.CLAMPED_VELOCITY
        )
        target.tau_ff[idx] = self._clamp(
            _or_zeros(effort, len(idx)), -self._tmax[idx], self._tmax[idx], Event.CLAMPED_TORQUE
        )
        if kp is not None:
            target.kp[idx] = self._clamp(np.asarray(kp, np.float64), 0.0, self._kp_max[idx], Event.CLAMPED_GAIN)
        if kd is not None:
            target.kd[idx] = self._clamp(np.asarray(kd, np.float64), 0.0, self._kd_max[idx], Event.CLAMPED_GAIN)
        self._last_command_s = now_s
        self.events[Event.ACCEPTED] += 1
        return None

    def set_gains(self, kp: np.ndarray, kd: np.ndarray, q: np.ndarray | None = None) -> None:
        """Set the default gains used for joints whose messages carry none (e.g. from the policy contract).

        `q` (robot order, rad) also sets the targets of joints no message names: the joints a policy holds
        (`PolicyContract.robot_targets`); clamped to the joint limits.
        """
        self._target.kp[:] = np.clip(np.asarray(kp, np.float64), 0.0, self._kp_max)
        self._target.kd[:] = np.clip(np.asarray(kd, np.float64), 0.0, self._kd_max)
        if q is not None:
            self._target.q[:] = np.clip(np.asarray(q, np.float64), self._lower, self._upper)

    def estop(self, engaged: bool) -> None:
        """E-stop input: True latches damping; False releases the latch but the guard stays in damping until `rearm`."""
        if engaged and not self._estop_latched:
            self.events[Event.ESTOP] += 1
        if engaged:
            self._armed = False
        self._estop_latched = engaged

    def trip(self, reason: str) -> None:
        """Latch damping because of a hardware fault (counted once per trip); `rearm` clears it."""
        if self._armed or not self.fault_reason:
            self.events[Event.FAULT] += 1
        self._armed = False
        self.fault_reason = reason

    def rearm(self) -> bool:
        """Leave e-stop, fault or latched-timeout damping (e-stop released first); the next command soft-starts.

        Returns:
            False while the e-stop is engaged (nothing changes), else True.
        """
        if self._estop_latched:
            return False
        if not self._armed or self._timeout_latched:
            self.events[Event.REARM] += 1
        self._armed = True
        self._timeout_latched = False
        self._estop_hold = None
        self.fault_reason = ""
        self._last_command_s = None  # commands from before the e-stop, fault or timeout do not count
        return True

    # ---- output ----------------------------------------------------------------------------------
    def output(self, now_s: float, measured_q: np.ndarray) -> JointCommand:
        """The command to apply at `now_s` given the measured joint positions (rad), shape (n_joints,)."""
        if not self._armed:
            fault = bool(self.fault_reason) and not self._estop_latched
            self.mode = GuardMode.FAULT if fault else GuardMode.ESTOP
            self._ramp_start_s = None
            if fault or self.fault_reason or self.config.estop_stop != "hold":
                return self._damping
            if self._estop_hold is None:  # the first output since it engaged: freeze where the joints are
                q = np.clip(np.asarray(measured_q, np.float64), self._lower, self._upper)
                self._estop_hold = JointCommand.hold(self.spec, q)
            return self._estop_hold
        if self._timeout_latched:
            self.mode = GuardMode.TIMEOUT
            return self._damping
        if self._last_command_s is None:
            self.mode = GuardMode.WAITING
            return self._damping
        if now_s - self._last_command_s > self.config.timeout_s:
            if self.mode is not GuardMode.TIMEOUT:
                self.events[Event.TIMEOUT] += 1
            self._timeout_latched = self.mode is GuardMode.ACTIVE
            self.mode = GuardMode.TIMEOUT
            self._ramp_start_s = None
            return self._damping
        if self._ramp_start_s is None:  # (re)start: ramp from where the joints are
            self._ramp_start_s = now_s
            self._ramp_from = np.clip(np.asarray(measured_q, np.float64), self._lower, self._upper)
        alpha = (
            1.0 if self.config.soft_start_s == 0 else min(1.0, (now_s - self._ramp_start_s) / self.config.soft_start_s)
        )
        target = self._target
        if alpha >= 1.0:
            self.mode = GuardMode.ACTIVE
            return JointCommand(
                target.q.copy(), target.dq.copy(), target.kp.copy(), target.kd.copy(), target.tau_ff.copy()
            )
        self.mode = GuardMode.SOFT_START
        q = self._ramp_from + alpha * (target.q - self._ramp_from)
        return JointCommand(q, target.dq * alpha, target.kp.copy(), target.kd.copy(), target.tau_ff * alpha)

    def counts(self) -> dict[str, int]:
        """Event counts by name, for diagnostics."""
        return {event.value: self.events[event] for event in Event}

    # ---- helpers ---------------------------------------------------------------------------------
    def _validate(
        self,
        names: Sequence[str],
        position: Sequence[float],
        velocity: Sequence[float],
        effort: Sequence[float],
        kp: Sequence[float] | None,
        kd: Sequence[float] | None,
    ) -> Rejection | None:
        unknown = [n for n in names if n not in self._index]
        if unknown:
            return Rejection(
                Event.REJECTED_UNKNOWN_JOINT, f"unknown joint(s) {unknown}; expected names from {self.spec.name}"
            )
        if len(set(names)) != len(names):
            return Rejection(Event.REJECTED_DUPLICATE_JOINT, "a joint is named twice in one command")
        n = len(names)
        for field, values, optional in (
            ("position", position, False),
            ("velocity", velocity, True),
            ("effort", effort, True),
            ("kp", kp, True),
            ("kd", kd, True),
        ):
            if values is None:
                continue
            length = len(values)
            if length != n and not (optional and length == 0):
                expected = f"{n}" + (" or 0" if optional else "")
                return Rejection(
                    Event.REJECTED_LENGTH, f"{field} has {length} values for {n} names; expected {expected}"
                )
            if length and not np.all(np.isfinite(np.asarray(values, np.float64))):
                return Rejection(Event.REJECTED_NAN, f"{field} contains NaN or Inf")
        return None

    def _clamp(self, values: np.ndarray, low: np.ndarray | float, high: np.ndarray | float, event: Event) -> np.ndarray:
        clamped = np.clip(values, low, high)
        if not np.array_equal(clamped, values):
            self.events[event] += 1
        return clamped


def _or_zeros(values: Sequence[float], n: int) -> np.ndarray:
    return np.asarray(values, np.float64) if len(values) else np.zeros(n)
