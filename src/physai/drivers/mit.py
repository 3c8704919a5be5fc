"""MIT-mode impedance-command codec (Mini Cheetah actuators, CubeMars / T-Motor AK series).

Wire format, as in Ben Katz's Mini Cheetah `motor_control` firmware (mbed, `CAN/CAN_com.cpp`
`unpack_cmd` / `pack_reply`, `math_ops.cpp` `float_to_uint` / `uint_to_float`) and chapter "MIT Mode
Communication Protocol" of the CubeMars *AK Series Module Driver User Manual* (`pack_cmd` /
`unpack_reply` examples). Standard 11-bit CAN frames; the host sends to arbitration id = motor CAN id.

Command, host → motor, 8 bytes (big-endian bit fields; integers per `physai.drivers.limits`)::

    p  16 bit over [p_min, p_max]   v  12 bit over [v_min, v_max]   kp 12 bit over [kp_min, kp_max]
    kd 12 bit over [kd_min, kd_max] t  12 bit over [t_min, t_max] (feed-forward torque)

    b0 = p >> 8          b1 = p & 0xFF         b2 = v >> 4     b3 = (v & 0xF) << 4 | kp >> 8
    b4 = kp & 0xFF       b5 = kd >> 4          b6 = (kd & 0xF) << 4 | t >> 8     b7 = t & 0xFF

Reply, motor → host, 6 bytes (Katz) or 8 bytes (CubeMars)::

    b0 = motor CAN id    b1..b2 = p (16 bit)   b3 = v >> 4     b4 = (v & 0xF) << 4 | t >> 8   b5 = t & 0xFF
    b6 = temperature + 40 (°C; CubeMars manual: "Temperature = T − 40, range −40~215")   b7 = error code

Special frames: FF FF FF FF FF FF FF FC enter motor mode, …FD exit motor mode, …FE set the current
position as zero. The firmware checks for these before decoding a command, so a command whose bytes
happen to equal one of them would be misread; `encode_command` moves such a command one position step
down (0.38 mrad on ±12.5 rad) and reports it in what it returns.

Clamp-before-pack: every field is clamped in SI units to its range before scaling (see
`physai.drivers.limits`): 20 rad → p_max, never a wrapped negative angle; NaN / ±Inf raise `CodecError`
naming the field. `encode_command` returns the bytes and the command decoded back from them, so callers
publish and record what was really sent. `encode_commands` does the same for n motors at once in numpy
(tables from `mit_table`, scaling in `physai.drivers.batch_scaling`), byte for byte equal to `encode_command`.

Limit tables (`MIT_LIMITS`) are the ranges compiled into each firmware; they must match the drive or
every value is scaled wrong. Sources and uncertainties:

* `mini_cheetah`: P ±12.5 rad, V ±65 rad/s, KP 0–500, KD 0–5, T ±18 N·m — Katz Mini Cheetah firmware and
  SPIne `main.cpp` "Value Limits".
* `AK80-6`: P ±12.5, V ±76, T ±12 — CubeMars AK manual MIT-mode table for current (V2+) firmware, as used
  by neurobionics/TMotorCANControl `MIT_Params` and the dfki mini-cheetah-tmotor-python-can
  `AK80_6_V2_PARAMS` (one fork of the latter lists V ±38.2 for V2: check the drive's firmware).
* `AK80-6-V1.1`: P ±12.5, V ±22.5, T ±12 — older T-Motor V1.1 firmware (dfki `AK80_6_V1p1_PARAMS`);
  V1.0 firmware used P ±95.5, V ±45, T ±18 and is not listed.
* `AK80-9`: P ±12.5, V ±50, T ±18 — TMotorCANControl (CubeMars manual); V1.1 firmware used V ±22.5 and
  one V2 table lists V ±25.64.
* `AK10-9`: P ±12.5, V ±50, T ±65 — TMotorCANControl and dfki `AK10_9_V1p1_params` agree.
* `AK70-10`: P ±12.5, V ±50, T ±25 — TMotorCANControl (CubeMars manual).
* KP 0–500 N·m/rad and KD 0–5 N·m·s/rad for every AK model (CubeMars manual; some third-party tables use
  KD 0–100 for AK60-6 firmware, not listed here).

Note: the CubeMars manual's own `float_to_uint` example scales by 2^bits/span (not (2^bits − 1)/span),
which maps x_max to 2^bits and overflows the field; this module follows Katz's (2^bits − 1) form.

Pure: bytes in, bytes out; no python-can here.
"""

from __future__ import annotations

import enum
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
from physai.drivers.limits import (
    CodecError,
    MotorLimits,
    clamp_finite,
    float_to_uint,
    quantization_step,
    uint_to_float,
)

__all__ = [
    "AK10_9",
    "AK70_10",
    "AK80_6",
    "AK80_6_V1_1",
    "AK80_9",
    "CUBEMARS_TEMPERATURE_OFFSET_C",
    "ENTER_MOTOR_MODE",
    "EXIT_MOTOR_MODE",
    "MINI_CHEETAH",
    "MIT_ERROR_CODES",
    "MIT_LIMITS",
    "SET_ZERO",
    "SPECIAL_FRAMES",
    "CodecError",
    "MitCommand",
    "MitReply",
    "MitSpecial",
    "MitTable",
    "MotorLimits",
    "decode_host_frame",
    "describe_error",
    "encode_command",
    "encode_commands",
    "float_to_uint",
    "limits_for",
    "mit_table",
    "pack_command",
    "pack_reply",
    "quantization_steps",
    "special_frame_kind",
    "uint_to_float",
    "unpack_command",
    "unpack_reply",
]

P_BITS = 16
"""Width of the position field, bits."""
V_BITS = 12
"""Width of the velocity field, bits."""
KP_BITS = 12
"""Width of the position-gain field, bits."""
KD_BITS = 12
"""Width of the damping-gain field, bits."""
T_BITS = 12
"""Width of the torque field, bits."""

COMMAND_LEN = 8
"""Length of a command frame, bytes."""
REPLY_LEN_SHORT = 6
"""Length of a Katz / Mini Cheetah reply (id, p, v, t), bytes."""
REPLY_LEN_LONG = 8
"""Length of a CubeMars reply (id, p, v, t, temperature, error), bytes."""

CUBEMARS_TEMPERATURE_OFFSET_C = -40.0
"""°C added to reply byte 6 (CubeMars manual: temperature = byte − 40, range −40…215 °C)."""

ENTER_MOTOR_MODE = bytes((0xFF,) * 7 + (0xFC,))
"""Enable the drive (start closed-loop control)."""
EXIT_MOTOR_MODE = bytes((0xFF,) * 7 + (0xFD,))
"""Disable the drive (outputs off)."""
SET_ZERO = bytes((0xFF,) * 7 + (0xFE,))
"""Set the current position as the zero position."""


class MitSpecial(enum.Enum):
    """The three special (non-command) host frames."""

    ENTER_MOTOR_MODE = ENTER_MOTOR_MODE
    EXIT_MOTOR_MODE = EXIT_MOTOR_MODE
    SET_ZERO = SET_ZERO


SPECIAL_FRAMES: Mapping[bytes, MitSpecial] = MappingProxyType({s.value: s for s in MitSpecial})
"""Special frame bytes → kind."""
_SPECIAL_WORDS = np.array([int.from_bytes(frame, "big") for frame in SPECIAL_FRAMES], dtype=np.uint64)
"""`SPECIAL_FRAMES` as big-endian 64-bit words, for the batch encoder."""

MIT_ERROR_CODES: Mapping[int, str] = MappingProxyType(
    {
        0: "no error",
        1: "over-temperature",
        2: "over-current",
        3: "over-voltage",
        4: "under-voltage",
        5: "encoder fault",
        6: "phase current unbalance (hardware may be damaged)",
    }
)
"""CubeMars reply byte 7 error codes (AK manual; same list in TMotorCANControl `ERROR_CODES`)."""

MINI_CHEETAH = MotorLimits(-12.5, 12.5, -65.0, 65.0, 0.0, 500.0, 0.0, 5.0, -18.0, 18.0)
"""Mini Cheetah actuator (Katz firmware)."""
AK80_6 = MotorLimits(-12.5, 12.5, -76.0, 76.0, 0.0, 500.0, 0.0, 5.0, -12.0, 12.0)
"""CubeMars AK80-6, current (V2+) MIT firmware."""
AK80_6_V1_1 = MotorLimits(-12.5, 12.5, -22.5, 22.5, 0.0, 500.0, 0.0, 5.0, -12.0, 12.0)
"""T-Motor AK80-6 with V1.1 firmware."""
AK80_9 = MotorLimits(-12.5, 12.5, -50.0, 50.0, 0.0, 500.0, 0.0, 5.0, -18.0, 18.0)
"""CubeMars AK80-9, current MIT firmware."""
AK10_9 = MotorLimits(-12.5, 12.5, -50.0, 50.0, 0.0, 500.0, 0.0, 5.0, -65.0, 65.0)
"""CubeMars AK10-9."""
AK70_10 = MotorLimits(-12.5, 12.5, -50.0, 50.0, 0.0, 500.0, 0.0, 5.0, -25.0, 25.0)
"""CubeMars AK70-10."""

MIT_LIMITS: Mapping[str, MotorLimits] = MappingProxyType(
    {
        "mini_cheetah": MINI_CHEETAH,
        "AK80-6": AK80_6,
        "AK80-6-V1.1": AK80_6_V1_1,
        "AK80-9": AK80_9,
        "AK10-9": AK10_9,
        "AK70-10": AK70_10,
    }
)
"""Wire ranges by model name (sources in the module docstring)."""


def limits_for(model: str) -> MotorLimits:
    """The MIT wire ranges of a motor model.

    Args:
        model: A key of `MIT_LIMITS` (e.g. "AK80-6", "mini_cheetah").

    Returns:
        The model's `MotorLimits`.

    Raises:
        CodecError: Unknown model; the message lists the known ones.
    """
    try:
        return MIT_LIMITS[model]
    except KeyError:
        raise CodecError("model", model, f"one of {sorted(MIT_LIMITS)}") from None


@dataclass(frozen=True)
class MitCommand:
    """One impedance command: τ = kp·(position − q) + kd·(velocity − q̇) + torque_ff."""

    position: float
    """Target position (rad)."""
    velocity: float
    """Target velocity (rad/s)."""
    kp: float
    """Position gain (N·m/rad)."""
    kd: float
    """Damping gain (N·m·s/rad)."""
    torque_ff: float
    """Feed-forward torque (N·m)."""


@dataclass(frozen=True)
class MitReply:
    """One motor state reply."""

    motor_id: int
    """CAN id of the replying motor (byte 0)."""
    position: float
    """Measured position (rad)."""
    velocity: float
    """Measured velocity (rad/s)."""
    torque: float
    """Measured / estimated torque (N·m); CubeMars reports q-axis current × Kt here."""
    temperature_c: float | None
    """Driver temperature (°C), None in 6-byte replies."""
    error: int | None
    """Error code (see `MIT_ERROR_CODES`), 0 = none; None in 6-byte replies."""


def describe_error(code: int | None) -> str:
    """Human-readable meaning of a CubeMars reply error code."""
    if code is None:
        return "not reported"
    return MIT_ERROR_CODES.get(code, f"unknown error code {code}")


def quantization_steps(limits: MotorLimits) -> MitCommand:
    """One least-significant bit of each command field, in SI units (the codec's resolution)."""
    return MitCommand(
        position=quantization_step(limits.p_min, limits.p_max, P_BITS),
        velocity=quantization_step(limits.v_min, limits.v_max, V_BITS),
        kp=quantization_step(limits.kp_min, limits.kp_max, KP_BITS),
        kd=quantization_step(limits.kd_min, limits.kd_max, KD_BITS),
        torque_ff=quantization_step(limits.t_min, limits.t_max, T_BITS),
    )


def _pack_ints(p: int, v: int, kp: int, kd: int, t: int) -> bytes:
    return bytes(
        (
            p >> 8,
            p & 0xFF,
            v >> 4,
            ((v & 0xF) << 4) | (kp >> 8),
            kp & 0xFF,
            kd >> 4,
            ((kd & 0xF) << 4) | (t >> 8),
            t & 0xFF,
        )
    )


def _unpack_ints(data: bytes) -> tuple[int, int, int, int, int]:
    p = (data[0] << 8) | data[1]
    v = (data[2] << 4) | (data[3] >> 4)
    kp = ((data[3] & 0xF) << 8) | data[4]
    kd = (data[5] << 4) | (data[6] >> 4)
    t = ((data[6] & 0xF) << 8) | data[7]
    return p, v, kp, kd, t


def _ints_to_command(ints: tuple[int, int, int, int, int], limits: MotorLimits) -> MitCommand:
    p, v, kp, kd, t = ints
    return MitCommand(
        position=uint_to_float(p, limits.p_min, limits.p_max, P_BITS),
        velocity=uint_to_float(v, limits.v_min, limits.v_max, V_BITS),
        kp=uint_to_float(kp, limits.kp_min, limits.kp_max, KP_BITS),
        kd=uint_to_float(kd, limits.kd_min, limits.kd_max, KD_BITS),
        torque_ff=uint_to_float(t, limits.t_min, limits.t_max, T_BITS),
    )


def encode_command(
    p: float, v: float, kp: float, kd: float, t_ff: float, limits: MotorLimits
) -> tuple[bytes, MitCommand]:
    """Encode an impedance command, clamping each field to `limits` first.

    Args:
        p: Target position (rad).
        v: Target velocity (rad/s).
        kp: Position gain (N·m/rad).
        kd: Damping gain (N·m·s/rad).
        t_ff: Feed-forward torque (N·m).
        limits: The motor's wire ranges.

    Returns:
        The 8 data bytes, and the command decoded back from them (clamped and quantized: what the motor
        will actually execute).

    Raises:
        CodecError: A field is NaN, ±Inf or not a number; the message names it.
    """
    ints = [
        float_to_uint(p, limits.p_min, limits.p_max, P_BITS, field="position", unit="rad"),
        float_to_uint(v, limits.v_min, limits.v_max, V_BITS, field="velocity", unit="rad/s"),
        float_to_uint(kp, limits.kp_min, limits.kp_max, KP_BITS, field="kp", unit="N·m/rad"),
        float_to_uint(kd, limits.kd_min, limits.kd_max, KD_BITS, field="kd", unit="N·m·s/rad"),
        float_to_uint(t_ff, limits.t_min, limits.t_max, T_BITS, field="torque_ff", unit="N·m"),
    ]
    data = _pack_ints(*ints)
    if data in SPECIAL_FRAMES:
        # All fields at their maxima and t in 0xFFC..0xFFE: the firmware would read a mode change.
        ints[0] -= 1
        data = _pack_ints(*ints)
    return data, _ints_to_command((ints[0], ints[1], ints[2], ints[3], ints[4]), limits)


class MitTable(FieldTable):
    """Wire ranges of n MIT motors as (5, n) arrays, built once by `mit_table` for `encode_commands`."""

    bits = (P_BITS, V_BITS, KP_BITS, KD_BITS, T_BITS)


def mit_table(limits_list: Sequence[MotorLimits], labels: Sequence[str] | None = None) -> MitTable:
    """The batch-encoder table of n MIT motors.

    Args:
        limits_list: Each motor's wire ranges, length n (n may be 0).
        labels: Motor names used in error messages (default: "0" … "n−1").
    """
    return MitTable.build(limits_list, labels)


_COMMAND_SHIFTS = word_shifts(MitTable.bits)
"""Where each field sits in the 64-bit command (p at bits 63–48 … t at bits 11–0): the layout of `_pack_ints`."""


def encode_commands(
    p: np.ndarray, v: np.ndarray, kp: np.ndarray, kd: np.ndarray, t_ff: np.ndarray, table: MitTable
) -> tuple[np.ndarray, np.ndarray]:
    """Encode one impedance command for each of n motors at once; byte-identical to `encode_command`.

    Same clamping, truncation, special-frame avoidance and errors as calling `encode_command` motor by
    motor, in numpy: for the control loop's per-tick encoding.

    Args:
        p: Target positions (rad), shape (n,) (or a scalar for all).
        v: Target velocities (rad/s), shape (n,).
        kp: Position gains (N·m/rad), shape (n,).
        kd: Damping gains (N·m·s/rad), shape (n,).
        t_ff: Feed-forward torques (N·m), shape (n,).
        table: The motors' ranges, from `mit_table`.

    Returns:
        payloads: (n, 8) uint8, row i = `encode_command(p[i], …, limits[i])[0]`.
        sent: (5, n) float64, rows (position, velocity, kp, kd, torque_ff) of the commands decoded back
            from the payloads (what the motors will execute).

    Raises:
        CodecError: A value is NaN or ±Inf (field "<name>[<label>]", e.g. "velocity[2]", for the first such
            motor), or an argument does not have shape (n,).
        TypeError: `table` is not a `MitTable`.
    """
    if not isinstance(table, MitTable):
        raise TypeError(f"table is a {type(table).__name__}; expected a MitTable (mit_table)")
    ints = quantize(stack_fields(p, v, kp, kd, t_ff, table.n), table)
    words = pack_words(ints, _COMMAND_SHIFTS)
    special = (words[:, None] == _SPECIAL_WORDS).any(axis=1)
    if special.any():  # as encode_command: one position step down, never a mode change
        ints[0, special] -= 1
        words = pack_words(ints, _COMMAND_SHIFTS)
    return words_to_bytes(words), dequantize(ints, table)


def pack_command(p: float, v: float, kp: float, kd: float, t_ff: float, limits: MotorLimits) -> bytes:
    """The 8 data bytes of `encode_command` (same clamping and errors)."""
    return encode_command(p, v, kp, kd, t_ff, limits)[0]


def _check_len(data: bytes | bytearray, lengths: tuple[int, ...], what: str) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CodecError("data", data, f"bytes ({what})")
    raw = bytes(data)
    if len(raw) not in lengths:
        raise CodecError("data", raw.hex(" "), f"{' or '.join(map(str, lengths))} bytes ({what})")
    return raw


def special_frame_kind(data: bytes | bytearray) -> MitSpecial | None:
    """The kind of a special host frame, or None for any other payload."""
    return SPECIAL_FRAMES.get(bytes(data))


def unpack_command(data: bytes | bytearray, limits: MotorLimits) -> MitCommand:
    """Decode a host command frame, as the motor firmware does (`unpack_cmd`).

    Args:
        data: The 8 data bytes.
        limits: The motor's wire ranges.

    Returns:
        The command in SI units.

    Raises:
        CodecError: Wrong length, or `data` is a special frame (check `special_frame_kind` first, or use
            `decode_host_frame`).
    """
    raw = _check_len(data, (COMMAND_LEN,), "an MIT command")
    if raw in SPECIAL_FRAMES:
        raise CodecError("data", raw.hex(" "), "an MIT command, not a special frame")
    return _ints_to_command(_unpack_ints(raw), limits)


def decode_host_frame(data: bytes | bytearray, limits: MotorLimits) -> MitCommand | MitSpecial:
    """Decode anything a host sends a motor: a special frame or an impedance command (for virtual motors)."""
    raw = _check_len(data, (COMMAND_LEN,), "an MIT host frame")
    special = SPECIAL_FRAMES.get(raw)
    return special if special is not None else _ints_to_command(_unpack_ints(raw), limits)


def pack_reply(
    motor_id: int,
    position: float,
    velocity: float,
    torque: float,
    limits: MotorLimits,
    *,
    temperature_c: float | None = None,
    error: int | None = None,
    temperature_offset_c: float = CUBEMARS_TEMPERATURE_OFFSET_C,
) -> bytes:
    """Encode a motor state reply (the motor side; used by virtual motors).

    Values are clamped to `limits` like commands (real firmware may instead wrap a position past
    p_max; hosts must not rely on either). Without `temperature_c` and `error` the reply is the 6-byte
    Katz form; with either, the 8-byte CubeMars form (missing temperature → byte 0, missing error → 0).

    Args:
        motor_id: CAN id written to byte 0, 0..255.
        position: Measured position (rad).
        velocity: Measured velocity (rad/s).
        torque: Measured torque (N·m).
        limits: The motor's wire ranges.
        temperature_c: Driver temperature (°C), clamped to the byte's range.
        error: Error code 0..255 (see `MIT_ERROR_CODES`).
        temperature_offset_c: °C added to byte 6 when decoding (CubeMars: −40).

    Returns:
        6 or 8 data bytes.

    Raises:
        CodecError: A value is NaN / ±Inf, or `motor_id` / `error` is not a byte.
    """
    if not (isinstance(motor_id, int) and 0 <= motor_id <= 0xFF):
        raise CodecError("motor_id", motor_id, "an int in [0, 255]")
    p = float_to_uint(position, limits.p_min, limits.p_max, P_BITS, field="position", unit="rad")
    v = float_to_uint(velocity, limits.v_min, limits.v_max, V_BITS, field="velocity", unit="rad/s")
    t = float_to_uint(torque, limits.t_min, limits.t_max, T_BITS, field="torque", unit="N·m")
    head = bytes((motor_id, p >> 8, p & 0xFF, v >> 4, ((v & 0xF) << 4) | (t >> 8), t & 0xFF))
    if temperature_c is None and error is None:
        return head
    temp_byte = 0
    if temperature_c is not None:
        lo, hi = temperature_offset_c, temperature_offset_c + 255.0
        temp_byte = round(clamp_finite(temperature_c, lo, hi, "temperature_c", "°C") - temperature_offset_c)
    code = 0 if error is None else error
    if not (isinstance(code, int) and 0 <= code <= 0xFF):
        raise CodecError("error", error, "an int in [0, 255]")
    return head + bytes((temp_byte, code))


def unpack_reply(
    data: bytes | bytearray,
    limits: MotorLimits,
    *,
    temperature_offset_c: float = CUBEMARS_TEMPERATURE_OFFSET_C,
) -> MitReply:
    """Decode a motor state reply (6-byte Katz or 8-byte CubeMars form).

    Args:
        data: The 6 or 8 data bytes.
        limits: The motor's wire ranges.
        temperature_offset_c: °C added to byte 6 (CubeMars manual: −40; some older host libraries read the
            raw byte, i.e. 0).

    Returns:
        The reply in SI units; `temperature_c` and `error` are None for 6-byte replies.

    Raises:
        CodecError: `data` is not 6 or 8 bytes.
    """
    raw = _check_len(data, (REPLY_LEN_SHORT, REPLY_LEN_LONG), "an MIT reply")
    p = (raw[1] << 8) | raw[2]
    v = (raw[3] << 4) | (raw[4] >> 4)
    t = ((raw[4] & 0xF) << 8) | raw[5]
    temperature_c = raw[6] + temperature_offset_c if len(raw) == REPLY_LEN_LONG else None
    error = raw[7] if len(raw) == REPLY_LEN_LONG else None
    return MitReply(
        motor_id=raw[0],
        position=uint_to_float(p, limits.p_min, limits.p_max, P_BITS),
        velocity=uint_to_float(v, limits.v_min, limits.v_max, V_BITS),
        torque=uint_to_float(t, limits.t_min, limits.t_max, T_BITS),
        temperature_c=temperature_c,
        error=error,
    )


def reply_fields(data: np.ndarray, dlc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The fields of m MIT replies at once: the batch twin of `unpack_reply`'s bit layout.

    Args:
        data: Shape (m, 8) uint8 payloads.
        dlc: Shape (m,) payload lengths (6: Katz form, 8: CubeMars form with temperature and error).

    Returns:
        (motor ids (m,) int64, field integers (m, 3) int64 — position 16 bit, velocity 12, torque 12 —,
        temperature byte (m,) float64 with `CUBEMARS_TEMPERATURE_OFFSET_C` added (NaN for 6-byte replies),
        error (m,) int64, 0 for 6-byte replies). Scale the integers with `REPLY_BITS`.
    """
    d = data.astype(np.int64)
    ints = np.stack(
        ((d[:, 1] << 8) | d[:, 2], (d[:, 3] << 4) | (d[:, 4] >> 4), ((d[:, 4] & 0xF) << 8) | d[:, 5]), axis=1
    )
    long = dlc == REPLY_LEN_LONG
    temperature = np.where(long, d[:, 6] + CUBEMARS_TEMPERATURE_OFFSET_C, np.nan)
    return d[:, 0], ints, temperature, np.where(long, d[:, 7], 0)


REPLY_BITS = (P_BITS, V_BITS, T_BITS)
"""Widths of the position, velocity and torque integers of a reply."""
