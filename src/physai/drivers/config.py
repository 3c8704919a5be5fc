"""Hardware config: which motor, protocol, CAN id, direction, zero offset and gear drive each joint.

    hw = HardwareConfig.load("robot_descriptions/testbed_biped/hardware.yaml", spec)

YAML (SI units; motor side = what the drive measures, joint side = what the RobotSpec and the policy use):

    buses:                        # as wired: each motor sits on one of them
      - {name: left_leg, interface: socketcan, channel: can0, bitrate: 1000000}
      - {name: arms, interface: socketcan, channel: can1, bitrate: 1000000, fd: true, data_bitrate: 5000000}
    rate_hz: 1000                 # driver loop rate the wiring is checked at (bus load, see below)
    host_id: 0xFD                 # Robstride host id (MIT replies come to id 0)
    stale_timeout_s: 0.02         # a motor that leaves a command unanswered this long is stale
    motors:
      - {joint: left_hip_yaw, bus: left_leg, protocol: mit, model: AK10-9, can_id: 1, direction: 1,
         zero_offset_rad: 0.0, gear_ratio: 1.0}

A single `bus: {...}` (no name, motors name no bus) is short for one bus named "can". CAN ids are unique per
bus. Bus load: every tick each motor gets one command frame and answers with one reply (8 data bytes; MIT
11-bit ids, Robstride 29-bit ids); `physai.drivers.busload` turns that into wire time with worst-case bit
stuffing. A bus above 100 % of the loop period is refused (naming bus, load and period), above 70 % warned.

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
from physai.drivers.busload import BusLoad, BusLoadError, bus_load, check_bus_loads
from physai.drivers.limits import MotorLimits
from physai.errors import FieldError
from physai.robot.spec import RobotSpec

PROTOCOLS = ("mit", "robstride")
INTERFACES = ("socketcan", "virtual", "udp_multicast", "datagram")
SINGLE_BUS_NAME = "can"
"""Name of the bus given by the one-bus shorthand `bus: {...}`."""
FRAME_BYTES = 8
"""Data bytes of every command and reply frame (MIT and Robstride)."""


class HardwareConfigError(FieldError):
    """A hardware YAML that cannot be used; the message names the file, the field, the value and the expectation."""


def _frozen_array(values: list[float]) -> np.ndarray:
    out = np.array(values, dtype=np.float64)
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class BusConfig:
    """One CAN bus (python-can arguments, and what the wire carries)."""

    name: str = SINGLE_BUS_NAME
    """Name motors refer to (`motors[i].bus`)."""
    interface: str = "socketcan"
    """socketcan (a robot), virtual (python-can, in-process), udp_multicast (python-can between processes), or
    datagram (physai.drivers.link.DatagramLink: batched frames, wire time modelled) — the last two on loopback /
    inside a test-made network namespace only."""
    channel: str = "can0"
    """socketcan: can0; virtual: any name; udp_multicast / datagram: an IPv4 multicast group[:port]."""
    bitrate: int = 1_000_000
    """Nominal (arbitration) bits per second."""
    fd: bool = False
    """CAN FD bus (the motors' classic frames still run at `bitrate`)."""
    data_bitrate: int = 0
    """CAN FD data-phase bits per second (0: none)."""


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
    """Motor CAN id (1..127 for MIT, 1..255 for Robstride), unique on its bus."""
    bus: str = SINGLE_BUS_NAME
    """Name of the bus it is wired to."""
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

    @property
    def extended_id(self) -> bool:
        """Its frames carry 29-bit ids (Robstride) rather than 11-bit (MIT)."""
        return self.protocol == "robstride"


@dataclass(frozen=True)
class HardwareConfig:
    """A robot's actuators, in RobotSpec joint order."""

    buses: tuple[BusConfig, ...]
    """The CAN buses, in YAML order."""
    motors: tuple[MotorConfig, ...]
    """One per RobotSpec joint, in joint order."""
    rate_hz: float = 1000.0
    """Driver loop rate the wiring was checked at (Hz)."""
    host_id: int = robstride.DEFAULT_HOST_ID
    """Robstride host id."""
    stale_timeout_s: float = 0.02
    """A motor that leaves a command unanswered this long (s) is stale (`MotorFeedback.age_s`)."""
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

    @cached_property
    def bus_index(self) -> np.ndarray:
        """Index into `buses` of each joint's motor (read-only)."""
        names = [b.name for b in self.buses]
        out = np.array([names.index(m.bus) for m in self.motors], dtype=np.intp)
        out.flags.writeable = False
        return out

    def bus_loads(self, rate_hz: float | None = None) -> list[BusLoad]:
        """Worst-case wire time per loop period of each bus at `rate_hz` (default: the config's)."""
        period = 1.0 / (rate_hz or self.rate_hz)
        loads = []
        for bus in self.buses:
            frames = [(FRAME_BYTES, m.extended_id) for m in self.motors if m.bus == bus.name] * 2  # command + reply
            loads.append(
                bus_load(
                    bus.name, frames, period, bitrate=bus.bitrate, fd=bus.fd, data_bitrate=bus.data_bitrate or None
                )
            )
        return loads

    def check_bus_load(self, rate_hz: float | None = None) -> list[str]:
        """Warnings for buses above 70 % at `rate_hz`; BusLoadError (a ValueError) for any above 100 %.

        The error names the config, the rate, and per bus its load, wire time per cycle and period.
        """
        try:
            return check_bus_loads(self.bus_loads(rate_hz))
        except BusLoadError as err:
            raise BusLoadError(f"{self.source} at {rate_hz or self.rate_hz:g} Hz: {err}") from None

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

        top = _keys(data, "<document>", {"motors"}, {"bus", "buses", "rate_hz", "host_id", "stale_timeout_s"}, fail)
        buses = _buses(top, fail)
        bus_names = [b.name for b in buses]
        raw_motors = top["motors"]
        if not isinstance(raw_motors, list):
            raise fail("motors", raw_motors, "a list with one entry per joint")
        by_joint: dict[str, MotorConfig] = {}
        ids: dict[tuple[str, int], str] = {}
        required = {"joint", "protocol", "model", "can_id"}
        optional = {"direction", "zero_offset_rad", "gear_ratio"} | ({"bus"} if "buses" in top else set())
        required |= {"bus"} if "buses" in top else set()
        for i, raw in enumerate(raw_motors):
            where = f"motors[{i}]"
            motor = MotorConfig(**_keys(raw, where, required, optional, fail))
            if motor.bus not in bus_names:
                raise fail(f"{where}.bus", motor.bus, f"one of the buses ({', '.join(bus_names)})")
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
            key = (motor.bus, motor.protocol, motor.can_id)
            if key in ids:
                raise fail(f"{where}.can_id", motor.can_id, f"an id not used by {ids[key]} on bus {motor.bus!r}")
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
        rate = top.get("rate_hz", 1000.0)
        if not isinstance(rate, (int, float)) or not rate > 0:
            raise fail("rate_hz", rate, "a loop rate in Hz > 0")
        config = cls(
            buses=buses,
            motors=tuple(by_joint[j] for j in spec.joint_names),
            rate_hz=float(rate),
            host_id=int(top.get("host_id", robstride.DEFAULT_HOST_ID)),
            stale_timeout_s=stale,
            source=source,
        )
        config.check_bus_load()
        return config


def _buses(top: dict[str, Any], fail: Any) -> tuple[BusConfig, ...]:
    """The `buses` list, or the one-bus shorthand `bus`, validated."""
    if ("bus" in top) == ("buses" in top):
        raise fail("buses", None, "either a list `buses` (each motor names one) or a single `bus`, not both")
    raws = top["buses"] if "buses" in top else [{"name": SINGLE_BUS_NAME, **(top["bus"] or {})}]
    if not isinstance(raws, list) or not raws:
        raise fail("buses", raws, "a non-empty list of buses")
    where_of = (lambda i: f"buses[{i}]") if "buses" in top else (lambda _i: "bus")
    keys = {"interface", "channel", "bitrate", "fd", "data_bitrate"}
    buses = []
    for i, raw in enumerate(raws):
        where = where_of(i)
        bus = BusConfig(**_keys(raw, where, {"name"} if "buses" in top else set(), keys | {"name"}, fail))
        if bus.interface not in INTERFACES:
            raise fail(f"{where}.interface", bus.interface, f"one of {', '.join(INTERFACES)}")
        if not isinstance(bus.bitrate, int) or not 10_000 <= bus.bitrate <= 1_000_000:
            raise fail(f"{where}.bitrate", bus.bitrate, "a classic CAN bit rate in bit/s, 10000..1000000")
        if bus.data_bitrate and not (bus.fd and isinstance(bus.data_bitrate, int) and bus.data_bitrate >= bus.bitrate):
            raise fail(f"{where}.data_bitrate", bus.data_bitrate, "a CAN FD data rate ≥ bitrate, with fd: true")
        if bus.name in [b.name for b in buses]:
            raise fail(f"{where}.name", bus.name, "a name not used by an earlier bus")
        buses.append(bus)
    return tuple(buses)


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
