"""Robstride RS0x / Xiaomi CyberGear private CAN protocol codec.

Wire format from the Xiaomi *CyberGear micro-motor instruction manual*, chapter 4 "Driver communication
protocol and usage instructions", and the Robstride *RS0x user manuals* (same private protocol, per-model
ranges). CAN 2.0B, 1 Mbit/s, 29-bit extended identifiers::

    arbitration_id = (comm_type << 24) | (data2 << 8) | target
    bits 28–24 communication type · bits 23–8 data area 2 · bits 7–0 target address

All payloads are 8 bytes. Frames implemented (encode and decode for each, so a virtual motor bank can
parse what a host sends and answer like a motor):

* type 1 motion control ("operation control", MIT-style), host → motor: data2 = feed-forward torque
  uint16 over [t_min, t_max]; payload big-endian uint16 target angle over [p_min, p_max] (= ±4π rad),
  target velocity over [v_min, v_max], kp over [kp_min, kp_max], kd over [kd_min, kd_max].
* type 2 feedback, motor → host: target = host id; data2 bits 0–7 (ID bits 8–15) motor CAN id,
  bits 8–13 (ID bits 16–21) faults (under-voltage, over-current, over-temperature, magnetic encoder, Hall
  encoder, uncalibrated), bits 14–15 (ID bits 22–23) mode (0 reset, 1 calibration, 2 run); payload
  big-endian uint16 angle, velocity, torque over the same ranges as type 1, then temperature (°C × 10).
* type 3 enable, type 4 stop (payload byte 0 = 1 also clears faults), type 6 set mechanical zero
  (payload byte 0 = 1): data2 = host id.
* type 17 parameter read (request: index; reply from the motor: data2 = motor id, target = host id,
  value in bytes 4–7) and type 18 parameter write: index uint16 little-endian in bytes 0–1, bytes 2–3
  zero, value little-endian in bytes 4–7 (float32, or uint8 in byte 4 for `run_mode`).

Parameters (`PARAMS`) are the manuals' "readable and writable single parameter list" (0x70xx). Helpers:
`encode_set_run_mode` (0x7005: 0 operation/MIT, 1 position, 2 speed, 3 current; Robstride also 5 CSP)
and `encode_set_can_timeout` (0x7028 `canTimeout`, uint32, 20000 ticks = 1 s, 0 disables; Robstride RS0x
only — its index and unit come from third-party transcriptions of the RS manuals (kscalelabs, seeed
motorbridge, several drivers agree), not from a manual text checked here; CyberGear has `CAN_TIMEOUT` only
as configuration parameter 0x200C, not writable with type 18).

Clamp-before-pack: every field is clamped in SI units before scaling (`physai.drivers.limits`); NaN and
±Inf raise `CodecError` naming the field. `encode_motion_control` also returns the command decoded back
from its frame (what the motor will execute). `encode_motion_controls` does the same for n motors at once in
numpy (tables from `robstride_table`), with identifiers and bytes equal to `encode_motion_control`'s.

Limit tables (`ROBSTRIDE_LIMITS`; angle always ±4π rad — the manuals' protocol tables; the CyberGear
sample code's P_MIN/P_MAX ±12.5 is 0.5 % narrower and not used here):

* `CyberGear`: V ±30 rad/s, KP 0–500, KD 0–5, T ±12 N·m — CyberGear manual §4.1.2–4.1.3.
* `RS00`: V ±33, KP 0–500, KD 0–5, T ±14 — kscalelabs/robstride `actuator_types.rs` (RS00 manual).
* `RS01`, `RS02`: V ±44, KP 0–500, KD 0–5, T ±17 — kscalelabs/robstride; RobStride SampleProgram RS01.
* `RS03`: V ±20, KP 0–5000, KD 0–100, T ±60 — kscalelabs/robstride (one third-party table lists V ±30:
  verify against the RS03 manual before relying on velocity feedback).
* `RS04`: V ±15, KP 0–5000, KD 0–100, T ±120 — kscalelabs/robstride; seeed motorbridge.

Temperature in type 2 is read as a signed int16 (°C × 10): the manual gives only "Temp × 10" and the
parameter table stores temperatures as int16 × 10, so sub-zero readings decode as negative, not ~6500 °C.

Pure: arbitration ids as ints, bytes in, bytes out; no python-can here.
"""

from __future__ import annotations

import enum
import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from physai.drivers.batch_scaling import (
    FieldTable,
    dequantize,
    pack_words,
    quantize,
    stack_fields,
    word_shifts,
    words_to_bytes,
)
from physai.drivers.frame import EXTENDED_ID_MAX, CanFrame
from physai.drivers.limits import (
    CodecError,
    MotorLimits,
    clamp_finite,
    float_to_uint,
    quantization_step,
    uint_to_float,
)

__all__ = [
    "CAN_TIMEOUT_TICKS_PER_S",
    "CYBERGEAR",
    "DEFAULT_HOST_ID",
    "PARAMS",
    "ROBSTRIDE_LIMITS",
    "RS00",
    "RS01",
    "RS02",
    "RS03",
    "RS04",
    "CommType",
    "Enable",
    "Fault",
    "Feedback",
    "MotionCommand",
    "MotorMode",
    "ParamRead",
    "ParamSpec",
    "ParamType",
    "ParamValue",
    "ParamWrite",
    "RobstrideMessage",
    "RobstrideTable",
    "RunMode",
    "SetZero",
    "Stop",
    "decode_enable",
    "decode_feedback",
    "decode_frame",
    "decode_motion_control",
    "decode_param_read",
    "decode_param_value",
    "decode_param_write",
    "decode_set_zero",
    "decode_stop",
    "encode_enable",
    "encode_feedback",
    "encode_motion_control",
    "encode_motion_controls",
    "encode_param_read",
    "encode_param_value",
    "encode_param_write",
    "encode_set_can_timeout",
    "encode_set_run_mode",
    "encode_set_zero",
    "encode_stop",
    "limits_for",
    "make_arbitration_id",
    "quantization_steps",
    "robstride_table",
    "split_arbitration_id",
]

FIELD_BITS = 16
"""Width of every scaled field (angle, velocity, kp, kd, torque), bits."""
FRAME_LEN = 8
"""Payload length of every frame, bytes."""
DEFAULT_HOST_ID = 0xFD
"""Host (master) CAN id put in data area 2 of host frames; motors answer to it."""
CAN_TIMEOUT_TICKS_PER_S = 20_000
"""Unit of Robstride `canTimeout` (0x7028): 20000 ticks = 1 s (50 µs per tick)."""

_FOUR_PI = 4.0 * math.pi

CYBERGEAR = MotorLimits(-_FOUR_PI, _FOUR_PI, -30.0, 30.0, 0.0, 500.0, 0.0, 5.0, -12.0, 12.0)
"""Xiaomi CyberGear micro-motor."""
RS00 = MotorLimits(-_FOUR_PI, _FOUR_PI, -33.0, 33.0, 0.0, 500.0, 0.0, 5.0, -14.0, 14.0)
"""Robstride RS00."""
RS01 = MotorLimits(-_FOUR_PI, _FOUR_PI, -44.0, 44.0, 0.0, 500.0, 0.0, 5.0, -17.0, 17.0)
"""Robstride RS01."""
RS02 = MotorLimits(-_FOUR_PI, _FOUR_PI, -44.0, 44.0, 0.0, 500.0, 0.0, 5.0, -17.0, 17.0)
"""Robstride RS02."""
RS03 = MotorLimits(-_FOUR_PI, _FOUR_PI, -20.0, 20.0, 0.0, 5000.0, 0.0, 100.0, -60.0, 60.0)
"""Robstride RS03."""
RS04 = MotorLimits(-_FOUR_PI, _FOUR_PI, -15.0, 15.0, 0.0, 5000.0, 0.0, 100.0, -120.0, 120.0)
"""Robstride RS04."""

ROBSTRIDE_LIMITS: Mapping[str, MotorLimits] = MappingProxyType(
    {"CyberGear": CYBERGEAR, "RS00": RS00, "RS01": RS01, "RS02": RS02, "RS03": RS03, "RS04": RS04}
)
"""Wire ranges by model name (sources in the module docstring)."""


def limits_for(model: str) -> MotorLimits:
    """The wire ranges of a Robstride / CyberGear model.

    Raises:
        CodecError: Unknown model; the message lists the known ones.
    """
    try:
        return ROBSTRIDE_LIMITS[model]
    except KeyError:
        raise CodecError("model", model, f"one of {sorted(ROBSTRIDE_LIMITS)}") from None


class CommType(enum.IntEnum):
    """Communication type, arbitration-id bits 28–24."""

    GET_ID = 0
    MOTION_CONTROL = 1
    FEEDBACK = 2
    ENABLE = 3
    STOP = 4
    SET_ZERO = 6
    SET_CAN_ID = 7
    PARAM_READ = 17
    PARAM_WRITE = 18
    FAULT_FEEDBACK = 21


class MotorMode(enum.IntEnum):
    """Mode state reported in feedback (arbitration-id bits 23–22)."""

    RESET = 0
    CALIBRATION = 1
    RUN = 2


class Fault(enum.IntFlag):
    """Fault bits reported in feedback (arbitration-id bits 16–21; bit 0 here = id bit 16)."""

    NONE = 0
    UNDER_VOLTAGE = 1 << 0
    OVER_CURRENT = 1 << 1
    OVER_TEMPERATURE = 1 << 2
    MAGNETIC_ENCODER = 1 << 3
    HALL_ENCODER = 1 << 4
    UNCALIBRATED = 1 << 5


class RunMode(enum.IntEnum):
    """Values of parameter `run_mode` (0x7005)."""

    OPERATION = 0
    """Motion control (MIT-style, type 1 frames); the power-on default."""
    POSITION = 1
    """Position mode (PP on Robstride): `loc_ref` with `limit_spd`."""
    SPEED = 2
    """Speed mode: `spd_ref` with `limit_cur`."""
    CURRENT = 3
    """Current mode: `iq_ref`."""
    POSITION_CSP = 5
    """Cyclic synchronous position (Robstride RS0x only)."""


class ParamType(enum.Enum):
    """Encoding of a parameter value in bytes 4–7 (little-endian; narrower types zero-padded)."""

    UINT8 = "<B"
    INT16 = "<h"
    UINT16 = "<H"
    UINT32 = "<I"
    FLOAT = "<f"


@dataclass(frozen=True)
class ParamSpec:
    """One entry of the single-parameter list."""

    index: int
    """Parameter index (0x70xx)."""
    name: str
    """Name as in the manual."""
    dtype: ParamType
    """Wire type of the value."""
    unit: str
    """SI unit of the value ('' for gains, enums and ticks)."""
    writable: bool = True
    """False for read-only observations."""


PARAMS: Mapping[int, ParamSpec] = MappingProxyType(
    {
        p.index: p
        for p in (
            ParamSpec(0x7005, "run_mode", ParamType.UINT8, ""),
            ParamSpec(0x7006, "iq_ref", ParamType.FLOAT, "A"),
            ParamSpec(0x700A, "spd_ref", ParamType.FLOAT, "rad/s"),
            ParamSpec(0x700B, "limit_torque", ParamType.FLOAT, "N·m"),
            ParamSpec(0x7010, "cur_kp", ParamType.FLOAT, ""),
            ParamSpec(0x7011, "cur_ki", ParamType.FLOAT, ""),
            ParamSpec(0x7014, "cur_filt_gain", ParamType.FLOAT, ""),
            ParamSpec(0x7016, "loc_ref", ParamType.FLOAT, "rad"),
            ParamSpec(0x7017, "limit_spd", ParamType.FLOAT, "rad/s"),
            ParamSpec(0x7018, "limit_cur", ParamType.FLOAT, "A"),
            ParamSpec(0x7019, "mechPos", ParamType.FLOAT, "rad", writable=False),
            ParamSpec(0x701A, "iqf", ParamType.FLOAT, "A", writable=False),
            ParamSpec(0x701B, "mechVel", ParamType.FLOAT, "rad/s", writable=False),
            ParamSpec(0x701C, "VBUS", ParamType.FLOAT, "V", writable=False),
            ParamSpec(0x701D, "rotation", ParamType.INT16, ""),
            ParamSpec(0x701E, "loc_kp", ParamType.FLOAT, ""),
            ParamSpec(0x701F, "spd_kp", ParamType.FLOAT, ""),
            ParamSpec(0x7020, "spd_ki", ParamType.FLOAT, ""),
            ParamSpec(0x7021, "spd_filt_gain", ParamType.FLOAT, ""),
            ParamSpec(0x7026, "EPScan_time", ParamType.UINT16, ""),
            ParamSpec(0x7028, "canTimeout", ParamType.UINT32, ""),
            ParamSpec(0x7029, "zero_sta", ParamType.UINT8, ""),
        )
    }
)
"""Known single parameters by index (0x7005…0x7020 CyberGear and Robstride; 0x7021+ Robstride only)."""

RUN_MODE_INDEX = 0x7005
"""Index of `run_mode`."""
CAN_TIMEOUT_INDEX = 0x7028
"""Index of Robstride `canTimeout`."""


# ---------------------------------------------------------------------------------------------------------
# Decoded frames
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MotionCommand:
    """Type 1: an impedance command, τ = kp·(position − q) + kd·(velocity − q̇) + torque_ff."""

    target_id: int
    """CAN id of the commanded motor."""
    position: float
    """Target angle (rad)."""
    velocity: float
    """Target velocity (rad/s)."""
    kp: float
    """Position gain (N·m/rad)."""
    kd: float
    """Damping gain (N·m·s/rad)."""
    torque_ff: float
    """Feed-forward torque (N·m)."""


@dataclass(frozen=True)
class Feedback:
    """Type 2: motor state."""

    motor_id: int
    """CAN id of the reporting motor."""
    host_id: int
    """Host id the frame is addressed to."""
    position: float
    """Angle (rad)."""
    velocity: float
    """Velocity (rad/s)."""
    torque: float
    """Torque (N·m)."""
    temperature_c: float
    """Temperature (°C), resolution 0.1 °C."""
    faults: Fault
    """Active fault bits (Fault.NONE when healthy)."""
    mode: MotorMode
    """Mode state."""


@dataclass(frozen=True)
class Enable:
    """Type 3: enable (start running in the current run mode)."""

    target_id: int
    """CAN id of the motor."""
    host_id: int
    """Host id (where the motor sends its feedback)."""


@dataclass(frozen=True)
class Stop:
    """Type 4: stop (disable); optionally clear faults."""

    target_id: int
    """CAN id of the motor."""
    host_id: int
    """Host id."""
    clear_faults: bool
    """True when payload byte 0 is 1 (clear latched faults)."""


@dataclass(frozen=True)
class SetZero:
    """Type 6: set the current position as mechanical zero (lost at power-off)."""

    target_id: int
    """CAN id of the motor."""
    host_id: int
    """Host id."""


@dataclass(frozen=True)
class ParamRead:
    """Type 17 request: read one parameter."""

    target_id: int
    """CAN id of the motor."""
    host_id: int
    """Host id."""
    index: int
    """Parameter index."""


@dataclass(frozen=True)
class ParamWrite:
    """Type 18: write one parameter (RAM; lost at power-off)."""

    target_id: int
    """CAN id of the motor."""
    host_id: int
    """Host id."""
    index: int
    """Parameter index."""
    value: int | float | None
    """Decoded value for indices in `PARAMS`, else None."""
    raw: bytes
    """Payload bytes 4–7 as sent."""


@dataclass(frozen=True)
class ParamValue:
    """Type 17 reply: one parameter's value, motor → host."""

    motor_id: int
    """CAN id of the replying motor."""
    host_id: int
    """Host id the frame is addressed to."""
    index: int
    """Parameter index."""
    value: int | float | None
    """Decoded value for indices in `PARAMS`, else None."""
    raw: bytes
    """Payload bytes 4–7 as sent."""


RobstrideMessage = MotionCommand | Feedback | Enable | Stop | SetZero | ParamRead | ParamWrite | ParamValue
"""Anything `decode_frame` returns."""


# ---------------------------------------------------------------------------------------------------------
# Identifier
# ---------------------------------------------------------------------------------------------------------


def _check_byte(name: str, value: int) -> int:
    if not (isinstance(value, int) and 0 <= value <= 0xFF):
        raise CodecError(name, value, "an int in [0, 255]")
    return value


def make_arbitration_id(comm_type: int, data2: int, target: int) -> int:
    """Build a 29-bit identifier: (comm_type << 24) | (data2 << 8) | target.

    Raises:
        CodecError: A part does not fit its bits (comm_type 5, data2 16, target 8).
    """
    if not (isinstance(comm_type, int) and 0 <= comm_type <= 0x1F):
        raise CodecError("comm_type", comm_type, "an int in [0, 31]")
    if not (isinstance(data2, int) and 0 <= data2 <= 0xFFFF):
        raise CodecError("data2", data2, "an int in [0, 65535]")
    _check_byte("target", target)
    return (int(comm_type) << 24) | (data2 << 8) | target


def split_arbitration_id(arbitration_id: int) -> tuple[int, int, int]:
    """Split a 29-bit identifier into (comm_type, data2, target).

    Raises:
        CodecError: Not an int in [0, 2^29 − 1].
    """
    if not (isinstance(arbitration_id, int) and 0 <= arbitration_id <= EXTENDED_ID_MAX):
        raise CodecError("arbitration_id", arbitration_id, f"an int in [0, {EXTENDED_ID_MAX:#x}]")
    return arbitration_id >> 24, (arbitration_id >> 8) & 0xFFFF, arbitration_id & 0xFF


def _frame(comm_type: CommType, data2: int, target: int, data: bytes) -> CanFrame:
    return CanFrame(make_arbitration_id(comm_type, data2, target), data, is_extended_id=True)


def _parts(arbitration_id: int, data: bytes | bytearray, expected: CommType) -> tuple[int, int, bytes]:
    comm_type, data2, target = split_arbitration_id(arbitration_id)
    if comm_type != expected:
        raise CodecError("arbitration_id", f"{arbitration_id:#010x}", f"communication type {int(expected)}")
    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) != FRAME_LEN:
        shown = bytes(data).hex(" ") if isinstance(data, (bytes, bytearray, memoryview)) else data
        raise CodecError("data", shown, f"{FRAME_LEN} bytes")
    return data2, target, bytes(data)


# ---------------------------------------------------------------------------------------------------------
# Type 1: motion control
# ---------------------------------------------------------------------------------------------------------


def quantization_steps(limits: MotorLimits) -> MotionCommand:
    """One least-significant bit of each type-1 field in SI units (`target_id` is 0)."""
    return MotionCommand(
        target_id=0,
        position=quantization_step(limits.p_min, limits.p_max, FIELD_BITS),
        velocity=quantization_step(limits.v_min, limits.v_max, FIELD_BITS),
        kp=quantization_step(limits.kp_min, limits.kp_max, FIELD_BITS),
        kd=quantization_step(limits.kd_min, limits.kd_max, FIELD_BITS),
        torque_ff=quantization_step(limits.t_min, limits.t_max, FIELD_BITS),
    )


def _u16(x: float, lo: float, hi: float, field: str, unit: str) -> int:
    return float_to_uint(x, lo, hi, FIELD_BITS, field=field, unit=unit)


def _f16(x: int, lo: float, hi: float) -> float:
    return uint_to_float(x, lo, hi, FIELD_BITS)


def encode_motion_control(
    target_id: int,
    position: float,
    velocity: float,
    kp: float,
    kd: float,
    torque_ff: float,
    limits: MotorLimits,
) -> tuple[CanFrame, MotionCommand]:
    """Encode a type-1 motion-control frame, clamping every field to `limits` first.

    Args:
        target_id: CAN id of the motor, 0..255.
        position: Target angle (rad).
        velocity: Target velocity (rad/s).
        kp: Position gain (N·m/rad).
        kd: Damping gain (N·m·s/rad).
        torque_ff: Feed-forward torque (N·m), carried in data area 2.
        limits: The motor's wire ranges.

    Returns:
        The frame, and the command decoded back from it (what the motor will execute).

    Raises:
        CodecError: A field is NaN / ±Inf / not a number, or `target_id` is not a byte.
    """
    _check_byte("target_id", target_id)
    t = _u16(torque_ff, limits.t_min, limits.t_max, "torque_ff", "N·m")
    p = _u16(position, limits.p_min, limits.p_max, "position", "rad")
    v = _u16(velocity, limits.v_min, limits.v_max, "velocity", "rad/s")
    k_p = _u16(kp, limits.kp_min, limits.kp_max, "kp", "N·m/rad")
    k_d = _u16(kd, limits.kd_min, limits.kd_max, "kd", "N·m·s/rad")
    frame = _frame(CommType.MOTION_CONTROL, t, target_id, struct.pack(">HHHH", p, v, k_p, k_d))
    return frame, decode_motion_control(frame.arbitration_id, frame.data, limits)


class RobstrideTable(FieldTable):
    """Wire ranges of n Robstride motors as (5, n) arrays, built once by `robstride_table`."""

    bits = (FIELD_BITS,) * 5
    check_order = (4, 0, 1, 2, 3)
    """`encode_motion_control` checks torque_ff first, then position, velocity, kp, kd."""


def robstride_table(limits_list: Sequence[MotorLimits], labels: Sequence[str] | None = None) -> RobstrideTable:
    """The batch-encoder table of n Robstride / CyberGear motors.

    Args:
        limits_list: Each motor's wire ranges, length n (n may be 0).
        labels: Motor names used in error messages (default: "0" … "n−1").
    """
    return RobstrideTable.build(limits_list, labels)


_PAYLOAD_SHIFTS = word_shifts(RobstrideTable.bits[:4])
"""Where angle, velocity, kp, kd sit in the 64-bit type-1 payload (struct ">HHHH")."""


def _target_id_array(target_ids: np.ndarray, table: RobstrideTable) -> np.ndarray:
    ids = np.asarray(target_ids)
    if ids.shape != (table.n,) or ids.dtype.kind not in "iu":
        raise CodecError("target_ids", ids, f"an int array of shape ({table.n},)")
    return ids.astype(np.int64)


def encode_motion_controls(
    target_ids: np.ndarray,
    p: np.ndarray,
    v: np.ndarray,
    kp: np.ndarray,
    kd: np.ndarray,
    t_ff: np.ndarray,
    table: RobstrideTable,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Encode one type-1 motion-control frame for each of n motors at once; identical to `encode_motion_control`.

    Same clamping, truncation and errors as calling `encode_motion_control` motor by motor, in numpy: for
    the control loop's per-tick encoding.

    Args:
        target_ids: CAN ids of the motors, int array of shape (n,), each 0..255.
        p: Target angles (rad), shape (n,) (or a scalar for all).
        v: Target velocities (rad/s), shape (n,).
        kp: Position gains (N·m/rad), shape (n,).
        kd: Damping gains (N·m·s/rad), shape (n,).
        t_ff: Feed-forward torques (N·m), shape (n,), carried in data area 2.
        table: The motors' ranges, from `robstride_table`.

    Returns:
        arbitration_ids: (n,) int64, the 29-bit extended identifiers.
        payloads: (n, 8) uint8, row i = the data of frame i.
        sent: (5, n) float64, rows (position, velocity, kp, kd, torque_ff) of the commands decoded back
            from the frames (what the motors will execute).

    Raises:
        CodecError: A target id is not a byte or a value is NaN / ±Inf (field "<name>[<label>]", e.g.
            "torque_ff[1]", for the first such motor), or an argument does not have shape (n,).
        TypeError: `table` is not a `RobstrideTable`.
    """
    if not isinstance(table, RobstrideTable):
        raise TypeError(f"table is a {type(table).__name__}; expected a RobstrideTable (robstride_table)")
    ids = _target_id_array(target_ids, table)
    ints = quantize(
        stack_fields(p, v, kp, kd, t_ff, table.n),
        table,
        lead_ok=(ids & 0xFF) == ids,  # a byte, checked first as in encode_motion_control
        lead_error=lambda i: CodecError(f"target_id[{table.labels[i]}]", int(ids[i]), "an int in [0, 255]"),
    )
    payloads = words_to_bytes(pack_words(ints[:4], _PAYLOAD_SHIFTS))
    base = make_arbitration_id(CommType.MOTION_CONTROL, 0, 0)
    arbitration_ids = base | (ints[4] << 8) | ids  # data area 2 = torque, as make_arbitration_id
    return arbitration_ids, payloads, dequantize(ints, table)


def decode_motion_control(arbitration_id: int, data: bytes | bytearray, limits: MotorLimits) -> MotionCommand:
    """Decode a type-1 frame (the motor side).

    Raises:
        CodecError: Not a type-1 identifier, or not 8 data bytes.
    """
    t, target, raw = _parts(arbitration_id, data, CommType.MOTION_CONTROL)
    p, v, k_p, k_d = struct.unpack(">HHHH", raw)
    return MotionCommand(
        target_id=target,
        position=_f16(p, limits.p_min, limits.p_max),
        velocity=_f16(v, limits.v_min, limits.v_max),
        kp=_f16(k_p, limits.kp_min, limits.kp_max),
        kd=_f16(k_d, limits.kd_min, limits.kd_max),
        torque_ff=_f16(t, limits.t_min, limits.t_max),
    )


# ---------------------------------------------------------------------------------------------------------
# Type 2: feedback
# ---------------------------------------------------------------------------------------------------------


def encode_feedback(
    motor_id: int,
    host_id: int,
    position: float,
    velocity: float,
    torque: float,
    temperature_c: float,
    limits: MotorLimits,
    *,
    faults: Fault = Fault.NONE,
    mode: MotorMode = MotorMode.RUN,
) -> CanFrame:
    """Encode a type-2 feedback frame (the motor side; used by virtual motors).

    Args:
        motor_id: CAN id of the reporting motor, 0..255.
        host_id: Host id the frame is addressed to, 0..255.
        position: Angle (rad), clamped to [p_min, p_max].
        velocity: Velocity (rad/s), clamped.
        torque: Torque (N·m), clamped.
        temperature_c: Temperature (°C), clamped to the int16 ×10 range.
        limits: The motor's wire ranges.
        faults: Active fault bits.
        mode: Mode state.

    Returns:
        The frame.

    Raises:
        CodecError: A value is NaN / ±Inf, an id is not a byte, or `faults` / `mode` is out of range.
    """
    _check_byte("motor_id", motor_id)
    _check_byte("host_id", host_id)
    fault_bits = int(faults)
    if not 0 <= fault_bits <= 0x3F:
        raise CodecError("faults", faults, "fault bits within 0x3F")
    mode_bits = int(mode)
    if mode_bits not in tuple(MotorMode):
        raise CodecError("mode", mode, f"one of {[m.name for m in MotorMode]}")
    temp = round(clamp_finite(temperature_c, -3276.8, 3276.7, "temperature_c", "°C") * 10)
    payload = struct.pack(
        ">HHHh",
        _u16(position, limits.p_min, limits.p_max, "position", "rad"),
        _u16(velocity, limits.v_min, limits.v_max, "velocity", "rad/s"),
        _u16(torque, limits.t_min, limits.t_max, "torque", "N·m"),
        max(-32768, min(32767, temp)),
    )
    data2 = (mode_bits << 14) | (fault_bits << 8) | motor_id
    return _frame(CommType.FEEDBACK, data2, host_id, payload)


def decode_feedback(arbitration_id: int, data: bytes | bytearray, limits: MotorLimits) -> Feedback:
    """Decode a type-2 feedback frame (the host side).

    Raises:
        CodecError: Not a type-2 identifier, not 8 data bytes, or mode state 3 (undefined).
    """
    data2, host_id, raw = _parts(arbitration_id, data, CommType.FEEDBACK)
    mode_bits = data2 >> 14
    if mode_bits not in tuple(MotorMode):
        raise CodecError("mode", mode_bits, f"one of {[f'{m.value} ({m.name})' for m in MotorMode]}")
    p, v, t, temp = struct.unpack(">HHHh", raw)
    return Feedback(
        motor_id=data2 & 0xFF,
        host_id=host_id,
        position=_f16(p, limits.p_min, limits.p_max),
        velocity=_f16(v, limits.v_min, limits.v_max),
        torque=_f16(t, limits.t_min, limits.t_max),
        temperature_c=temp / 10.0,
        faults=Fault((data2 >> 8) & 0x3F),
        mode=MotorMode(mode_bits),
    )


def feedback_fields(
    ids: np.ndarray, data: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The fields of m type-2 feedback frames at once: the batch twin of `decode_feedback`'s bit layout.

    Args:
        ids: Shape (m,) 29-bit arbitration ids (type 2 is the caller's filter).
        data: Shape (m, 8) uint8 payloads.

    Returns:
        (motor ids (m,), host ids (m,), field integers (m, 3) int64 — position, velocity, torque, 16 bit
        each —, temperature (m,) °C, fault bits (m,), mode bits (m,): 0 reset, 1 cali, 2 run, 3 undefined).
    """
    ids = ids.astype(np.int64)
    d = data.astype(np.int64)
    words = (d[:, 0::2] << 8) | d[:, 1::2]  # four big-endian 16-bit words
    temperature = np.where(words[:, 3] >= 0x8000, words[:, 3] - 0x10000, words[:, 3]) / 10.0
    return (ids >> 8) & 0xFF, ids & 0xFF, words[:, :3], temperature, (ids >> 16) & 0x3F, (ids >> 22) & 0x3


# ---------------------------------------------------------------------------------------------------------
# Types 3, 4, 6: enable, stop, set zero
# ---------------------------------------------------------------------------------------------------------


def encode_enable(target_id: int, host_id: int = DEFAULT_HOST_ID) -> CanFrame:
    """Type 3 enable frame (payload all zero)."""
    _check_byte("host_id", host_id)
    return _frame(CommType.ENABLE, host_id, _check_byte("target_id", target_id), bytes(FRAME_LEN))


def decode_enable(arbitration_id: int, data: bytes | bytearray) -> Enable:
    """Decode a type-3 enable frame."""
    data2, target, _ = _parts(arbitration_id, data, CommType.ENABLE)
    return Enable(target_id=target, host_id=data2 & 0xFF)


def encode_stop(target_id: int, host_id: int = DEFAULT_HOST_ID, *, clear_faults: bool = False) -> CanFrame:
    """Type 4 stop frame; `clear_faults` sets payload byte 0 to 1 (clear latched faults)."""
    _check_byte("host_id", host_id)
    payload = bytes((1 if clear_faults else 0,)) + bytes(FRAME_LEN - 1)
    return _frame(CommType.STOP, host_id, _check_byte("target_id", target_id), payload)


def decode_stop(arbitration_id: int, data: bytes | bytearray) -> Stop:
    """Decode a type-4 stop frame."""
    data2, target, raw = _parts(arbitration_id, data, CommType.STOP)
    return Stop(target_id=target, host_id=data2 & 0xFF, clear_faults=raw[0] == 1)


def encode_set_zero(target_id: int, host_id: int = DEFAULT_HOST_ID) -> CanFrame:
    """Type 6 set-mechanical-zero frame (payload byte 0 = 1)."""
    _check_byte("host_id", host_id)
    payload = b"\x01" + bytes(FRAME_LEN - 1)
    return _frame(CommType.SET_ZERO, host_id, _check_byte("target_id", target_id), payload)


def decode_set_zero(arbitration_id: int, data: bytes | bytearray) -> SetZero:
    """Decode a type-6 set-zero frame.

    Raises:
        CodecError: Payload byte 0 is not 1 (the motor ignores such a frame).
    """
    data2, target, raw = _parts(arbitration_id, data, CommType.SET_ZERO)
    if raw[0] != 1:
        raise CodecError("data[0]", raw[0], "1 (set-zero request)")
    return SetZero(target_id=target, host_id=data2 & 0xFF)


# ---------------------------------------------------------------------------------------------------------
# Types 17, 18: parameters
# ---------------------------------------------------------------------------------------------------------


def _pack_value(index: int, value: float, dtype: ParamType | None) -> bytes:
    spec = PARAMS.get(index)
    kind = dtype if dtype is not None else (spec.dtype if spec is not None else None)
    name = spec.name if spec is not None else f"{index:#06x}"
    if kind is None:
        raise CodecError("index", f"{index:#06x}", f"a known parameter {sorted(hex(i) for i in PARAMS)} or a dtype")
    if kind is ParamType.FLOAT:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise CodecError(name, value, "a finite number") from None
        if not math.isfinite(number):
            raise CodecError(name, value, "a finite number")
        try:
            packed = struct.pack("<f", number)
        except OverflowError:
            raise CodecError(name, value, "a number within float32 range") from None
        if not math.isfinite(struct.unpack("<f", packed)[0]):
            raise CodecError(name, value, "a number within float32 range")
        return packed
    size = struct.calcsize(kind.value)
    bits = 8 * size
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if kind is ParamType.INT16 else (0, (1 << bits) - 1)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise CodecError(name, value, f"an int in [{lo}, {hi}] ({kind.name.lower()})")
    return struct.pack(kind.value, value) + bytes(4 - size)


def _unpack_value(index: int, raw: bytes) -> int | float | None:
    spec = PARAMS.get(index)
    if spec is None:
        return None
    size = struct.calcsize(spec.dtype.value)
    return struct.unpack(spec.dtype.value, raw[:size])[0]


def _check_index(index: int) -> int:
    if not (isinstance(index, int) and 0 <= index <= 0xFFFF):
        raise CodecError("index", index, "an int in [0, 0xFFFF]")
    return index


def encode_param_write(
    target_id: int,
    index: int,
    value: float,
    host_id: int = DEFAULT_HOST_ID,
    *,
    dtype: ParamType | None = None,
) -> CanFrame:
    """Type 18 single-parameter write (RAM; lost at power-off).

    Args:
        target_id: CAN id of the motor.
        index: Parameter index (see `PARAMS`).
        value: The value, in the parameter's unit (int for integer parameters).
        host_id: Host id.
        dtype: Wire type, needed only for indices not in `PARAMS`.

    Returns:
        The frame: index little-endian in bytes 0–1, value little-endian from byte 4.

    Raises:
        CodecError: Unknown index without `dtype`, read-only parameter, or a value that does not fit
            (NaN / Inf floats, out-of-range ints); the message names the parameter.
    """
    _check_byte("host_id", host_id)
    _check_index(index)
    spec = PARAMS.get(index)
    if spec is not None and not spec.writable:
        raise CodecError("index", f"{index:#06x} ({spec.name})", "a writable parameter")
    payload = struct.pack("<HH", index, 0) + _pack_value(index, value, dtype)
    return _frame(CommType.PARAM_WRITE, host_id, _check_byte("target_id", target_id), payload)


def decode_param_write(arbitration_id: int, data: bytes | bytearray) -> ParamWrite:
    """Decode a type-18 frame (the motor side)."""
    data2, target, raw = _parts(arbitration_id, data, CommType.PARAM_WRITE)
    index = struct.unpack("<H", raw[:2])[0]
    return ParamWrite(target, data2 & 0xFF, index, _unpack_value(index, raw[4:]), raw[4:])


def encode_param_read(target_id: int, index: int, host_id: int = DEFAULT_HOST_ID) -> CanFrame:
    """Type 17 single-parameter read request (index in bytes 0–1, rest zero)."""
    _check_byte("host_id", host_id)
    payload = struct.pack("<H", _check_index(index)) + bytes(FRAME_LEN - 2)
    return _frame(CommType.PARAM_READ, host_id, _check_byte("target_id", target_id), payload)


def decode_param_read(arbitration_id: int, data: bytes | bytearray) -> ParamRead:
    """Decode a type-17 request (the motor side)."""
    data2, target, raw = _parts(arbitration_id, data, CommType.PARAM_READ)
    return ParamRead(target, data2 & 0xFF, struct.unpack("<H", raw[:2])[0])


def encode_param_value(
    motor_id: int, host_id: int, index: int, value: float, *, dtype: ParamType | None = None
) -> CanFrame:
    """Type 17 reply, motor → host: data2 = motor id, target = host id, value from byte 4."""
    _check_byte("motor_id", motor_id)
    payload = struct.pack("<HH", _check_index(index), 0) + _pack_value(index, value, dtype)
    return _frame(CommType.PARAM_READ, motor_id, _check_byte("host_id", host_id), payload)


def decode_param_value(arbitration_id: int, data: bytes | bytearray) -> ParamValue:
    """Decode a type-17 reply (the host side); data2 bits 8–15 (a status on some firmware) are ignored."""
    data2, host_id, raw = _parts(arbitration_id, data, CommType.PARAM_READ)
    index = struct.unpack("<H", raw[:2])[0]
    return ParamValue(data2 & 0xFF, host_id, index, _unpack_value(index, raw[4:]), raw[4:])


def encode_set_run_mode(target_id: int, mode: RunMode | int, host_id: int = DEFAULT_HOST_ID) -> CanFrame:
    """Write `run_mode` (0x7005, uint8 in byte 4). Send while stopped; enable afterwards.

    Raises:
        CodecError: `mode` is not a `RunMode` value.
    """
    if isinstance(mode, bool) or not isinstance(mode, int) or mode not in tuple(RunMode):
        raise CodecError("run_mode", mode, f"one of {[f'{m.value} ({m.name})' for m in RunMode]}")
    return encode_param_write(target_id, RUN_MODE_INDEX, int(mode), host_id)


def encode_set_can_timeout(target_id: int, timeout_s: float, host_id: int = DEFAULT_HOST_ID) -> CanFrame:
    """Write the Robstride CAN watchdog `canTimeout` (0x7028, uint32 ticks, 20000 ticks = 1 s).

    With a non-zero timeout the motor leaves run mode when no frame arrives for that long; 0 disables
    the watchdog. Robstride RS0x only (see module docstring).

    Args:
        target_id: CAN id of the motor.
        timeout_s: Watchdog period (s), ≥ 0; rounded to the nearest 50 µs tick.
        host_id: Host id.

    Raises:
        CodecError: `timeout_s` is negative, non-finite, or beyond the uint32 tick range.
    """
    max_s = 0xFFFF_FFFF / CAN_TIMEOUT_TICKS_PER_S
    try:
        seconds = float(timeout_s)
    except (TypeError, ValueError):
        raise CodecError("timeout_s", timeout_s, f"a number in [0, {max_s:.1f}] (s)") from None
    if not (math.isfinite(seconds) and 0.0 <= seconds <= max_s):
        raise CodecError("timeout_s", timeout_s, f"a number in [0, {max_s:.1f}] (s)")
    return encode_param_write(target_id, CAN_TIMEOUT_INDEX, round(seconds * CAN_TIMEOUT_TICKS_PER_S), host_id)


# ---------------------------------------------------------------------------------------------------------
# Dispatch
# ---------------------------------------------------------------------------------------------------------


def decode_frame(
    arbitration_id: int, data: bytes | bytearray, limits: MotorLimits, *, from_motor: bool = False
) -> RobstrideMessage:
    """Decode any implemented frame by its communication type.

    Args:
        arbitration_id: 29-bit identifier.
        data: The 8 data bytes.
        limits: Wire ranges (used by types 1 and 2).
        from_motor: Whether the frame was sent by a motor; selects the type-17 reply layout
            (`ParamValue`) instead of the request (`ParamRead`).

    Returns:
        The decoded message.

    Raises:
        CodecError: Unsupported communication type, or a malformed frame.
    """
    comm_type = split_arbitration_id(arbitration_id)[0]
    if comm_type == CommType.MOTION_CONTROL:
        return decode_motion_control(arbitration_id, data, limits)
    if comm_type == CommType.FEEDBACK:
        return decode_feedback(arbitration_id, data, limits)
    if comm_type == CommType.ENABLE:
        return decode_enable(arbitration_id, data)
    if comm_type == CommType.STOP:
        return decode_stop(arbitration_id, data)
    if comm_type == CommType.SET_ZERO:
        return decode_set_zero(arbitration_id, data)
    if comm_type == CommType.PARAM_READ:
        return decode_param_value(arbitration_id, data) if from_motor else decode_param_read(arbitration_id, data)
    if comm_type == CommType.PARAM_WRITE:
        return decode_param_write(arbitration_id, data)
    raise CodecError("arbitration_id", f"{arbitration_id:#010x}", "communication type 1, 2, 3, 4, 6, 17 or 18")
