"""Hardware config: which motor, protocol, CAN id, direction, zero offset and gear drive each joint.

    hw = HardwareConfig.load("robot_descriptions/testbed_biped/hardware.yaml", spec)

YAML (SI units; motor side = what the drive measures, joint side = what the RobotSpec and the policy use):

    bus: {interface: socketcan, channel: can0, bitrate: 1000000}
    host_id: 0xFD                 # Robstride host id (MIT replies come to id 0)
    stale_timeout_s: 0.02         # feedback older than this marks a motor stale
    motors:
      - {joint: left_hip_yaw, protocol: mit, model: AK10-9, can_id: 1, direction: 1, zero_offset_rad: 0.0, gear_ratio: 1.0}

Mapping (per motor, d = direction ±1, g = gear ratio, o = zero offset):
    q_m = d·g·q_j + o     dq_m = d·g·dq_j     τ_m = d·τ_j / g     kp_m = kp_j / g²     kd_m = kd_j / g²
Every joint of the RobotSpec needs exactly one motor whose limit table covers its position range and effort.
Errors name the file, the field, the value and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from physai.drivers import mit, robstride
from physai.drivers.limits import MotorLimits
from physai.robot.spec import RobotSpec

PROTOCOLS = ("mit", "robstride")
INTERFACES = ("socketcan", "virtual", "udp_multicast")


class HardwareConfigError(ValueError):
    """A hardware YAML that cannot be used; the message names the file, the field, the value and the expectation."""

    def __init__(self, source: str, field: str, value: Any, expected: str) -> None:
        self.source, self.field = source, field
        super().__init__(f"{source}: field '{field}' is {value!r}; expected {expected}")


def _frozen_array(values: list[float]) -> np.ndarray:
    out = np.array(values, dtype=np.float64)
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class BusConfig:
    """The CAN bus (python-can arguments)."""

    interface: str = "socketcan"
    """socketcan (a robot), virtual (in-process), udp_multicast (processes on loopback / a test namespace)."""
    channel: str = "can0"
    """socketcan: can0; virtual: any name; udp_multicast: an IPv4 multicast group such as 239.74.163.2."""
    bitrate: int = 1_000_000
    """Bits per second (socketcan)."""


@dataclass(frozen=True)
class MotorConfig:
    """One actuator."""

    joint: str
    """Joint of the RobotSpec it drives."""
    protocol: str
    """mit | robstride."""
    model: str
    """Key of the protocol's limit table (e.g. AK10-9, RS03)."""
    can_id: int
    """Motor CAN id (1..127 for MIT, 1..255 for Robstride)."""
    direction: int = 1
    """+1 or −1: sign between joint and motor axis."""
    zero_offset_rad: float = 0.0
    """Motor position (rad) at joint zero."""
    gear_ratio: float = 1.0
    """Motor radians per joint radian (> 0)."""

    @property
    def limits(self) -> MotorLimits:
        """The firmware limit table of this motor."""
        return (mit.limits_for if self.protocol == "mit" else robstride.limits_for)(self.model)


@dataclass(frozen=True)
class HardwareConfig:
    """A robot's actuators, in RobotSpec joint order."""

    bus: BusConfig
    motors: tuple[MotorConfig, ...]
    """One per RobotSpec joint, in joint order."""
    host_id: int = robstride.DEFAULT_HOST_ID
    """Robstride host id."""
    stale_timeout_s: float = 0.02
    """Feedback older than this (s) marks a motor stale."""
    source: str = "<dict>"

    # per-joint arrays for the vectorised mapping, shape (n_joints,)
    @cached_property
    def direction(self) -> np.ndarray:
        """±1 per joint (read-only, built once: the driver maps every tick)."""
        return _frozen_array([m.direction for m in self.motors])

    @cached_property
    def gear(self) -> np.ndarray:
        """Gear ratio per joint (read-only, built once: the driver maps every tick)."""
        return _frozen_array([m.gear_ratio for m in self.motors])

    @cached_property
    def offset(self) -> np.ndarray:
        """Motor zero offset per joint (rad) (read-only, built once: the driver maps every tick)."""
        return _frozen_array([m.zero_offset_rad for m in self.motors])

    @classmethod
    def load(cls, path: str | Path, spec: RobotSpec) -> HardwareConfig:
        """Read and validate a hardware YAML against `spec`."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"hardware config {path} does not exist")
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            raise HardwareConfigError(str(path), "<document>", str(err).splitlines()[0], "valid YAML") from err
        return cls.from_dict(data, spec, str(path))

    @classmethod
    def from_dict(cls, data: Any, spec: RobotSpec, source: str = "<dict>") -> HardwareConfig:
        """Validate parsed YAML against `spec` (see the module docstring)."""

        def fail(field: str, value: Any, expected: str) -> HardwareConfigError:
            return HardwareConfigError(source, field, value, expected)

        top = _keys(data, "<document>", {"bus", "motors"}, {"host_id", "stale_timeout_s"}, fail)
        bus_raw = _keys(top["bus"], "bus", set(), {"interface", "channel", "bitrate"}, fail)
        bus = BusConfig(**bus_raw)
        if bus.interface not in INTERFACES:
            raise fail("bus.interface", bus.interface, f"one of {', '.join(INTERFACES)}")
        raw_motors = top["motors"]
        if not isinstance(raw_motors, list):
            raise fail("motors", raw_motors, "a list with one entry per joint")
        by_joint: dict[str, MotorConfig] = {}
        ids: dict[tuple[str, int], str] = {}
        required = {"joint", "protocol", "model", "can_id"}
        optional = {"direction", "zero_offset_rad", "gear_ratio"}
        for i, raw in enumerate(raw_motors):
            where = f"motors[{i}]"
            motor = MotorConfig(**_keys(raw, where, required, optional, fail))
            if motor.joint not in spec.joint_names:
                raise fail(f"{where}.joint", motor.joint, f"a joint of {spec.name} ({', '.join(spec.joint_names)})")
            if motor.joint in by_joint:
                raise fail(f"{where}.joint", motor.joint, "a joint not driven by an earlier motor")
            if motor.protocol not in PROTOCOLS:
                raise fail(f"{where}.protocol", motor.protocol, f"one of {', '.join(PROTOCOLS)}")
            try:
                limits = motor.limits
            except (KeyError, ValueError) as err:
                raise fail(f"{where}.model", motor.model, f"a {motor.protocol} motor model ({err})") from None
            top_id = 127 if motor.protocol == "mit" else 255
            if not isinstance(motor.can_id, int) or not 1 <= motor.can_id <= top_id:
                raise fail(f"{where}.can_id", motor.can_id, f"an integer in 1..{top_id}")
            key = (motor.protocol, motor.can_id)
            if key in ids:
                raise fail(f"{where}.can_id", motor.can_id, f"an id not used by {ids[key]} on the same bus")
            ids[key] = motor.joint
            if motor.direction not in (1, -1):
                raise fail(f"{where}.direction", motor.direction, "1 or -1")
            if not (isinstance(motor.gear_ratio, (int, float)) and motor.gear_ratio > 0):
                raise fail(f"{where}.gear_ratio", motor.gear_ratio, "a number > 0")
            joint = spec.joints[spec.joint_names.index(motor.joint)]
            motor_effort = min(-limits.t_min, limits.t_max) * motor.gear_ratio
            if joint.effort > motor_effort + 1e-9:
                raise fail(
                    f"{where}.model",
                    motor.model,
                    f"a motor whose torque covers effort {joint.effort:g} N·m (has {motor_effort:g})",
                )
            ends = [motor.direction * motor.gear_ratio * q + motor.zero_offset_rad for q in (joint.lower, joint.upper)]
            if min(ends) < limits.p_min or max(ends) > limits.p_max:
                raise fail(
                    f"{where}.zero_offset_rad",
                    motor.zero_offset_rad,
                    f"joint range [{joint.lower:g}, {joint.upper:g}] inside the motor's ±{limits.p_max:g} rad",
                )
            by_joint[motor.joint] = motor
        missing = [j for j in spec.joint_names if j not in by_joint]
        if missing:
            raise fail("motors", f"{len(by_joint)} motors", f"a motor for every joint (missing: {', '.join(missing)})")
        stale = float(top.get("stale_timeout_s", 0.02))
        if stale <= 0:
            raise fail("stale_timeout_s", stale, "a number > 0")
        return cls(
            bus=bus,
            motors=tuple(by_joint[j] for j in spec.joint_names),
            host_id=int(top.get("host_id", robstride.DEFAULT_HOST_ID)),
            stale_timeout_s=stale,
            source=source,
        )


def _keys(value: Any, where: str, required: set[str], optional: set[str], fail: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(where, value, "a mapping")
    for key in value:
        if key not in required | optional:
            name = key if where == "<document>" else f"{where}.{key}"
            raise fail(name, value[key], f"no such key (allowed: {', '.join(sorted(required | optional))})")
    for key in required:
        if key not in value:
            name = key if where == "<document>" else f"{where}.{key}"
            raise fail(name, None, "a value (the key is required)")
    return value
