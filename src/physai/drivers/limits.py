"""Fixed-point scaling shared by the actuator codecs: range limits, clamping and float ↔ uint conversion.

Both the MIT (Mini Cheetah / CubeMars) and the Robstride / CyberGear protocols put each physical quantity
on the wire as an unsigned integer of `bits` bits that maps linearly onto a per-model range
[x_min, x_max]. The conversion here is the one in Ben Katz's Mini Cheetah firmware (`math_ops.cpp`,
used by `CAN_COM.cpp` pack_reply/unpack_cmd), which the CubeMars and Xiaomi/Robstride manuals copy:

    float_to_uint:  int((x − x_min) · (2^bits − 1) / (x_max − x_min))     (truncation, x ≥ x_min)
    uint_to_float:  x_int · (x_max − x_min) / (2^bits − 1) + x_min

The firmware clamps in some call sites and not in others; an unclamped out-of-range value wraps on the
wire (a 20 rad target on a ±12.5 rad motor becomes about −5 rad). Here every value is checked and clamped
in SI units before it is scaled, so no value can wrap:

* finite values outside [x_min, x_max] saturate at the nearer end (20 rad → p_max, −1e9 → p_min);
* NaN and ±Inf are rejected with a `CodecError` naming the field. Inf is rejected rather than clamped
  because a non-finite command is a fault upstream (a diverged policy, a bad parameter), and saturating
  it would command a full-range move; `physai.control.SafetyGuard` rejects the same values.

Pure Python, no I/O: bytes and ints in, bytes and ints out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

__all__ = [
    "CodecError",
    "MotorLimits",
    "clamp_finite",
    "float_to_uint",
    "quantization_step",
    "uint_to_float",
]


class CodecError(ValueError):
    """A value that cannot be encoded, or a frame that cannot be decoded.

    The message names the field, the value and what was expected, e.g.
    "field 'position' is nan; expected a finite number (rad)".
    """

    field: str
    """Name of the offending field (e.g. `position`, `data`, `arbitration_id`)."""
    value: Any
    """The offending value."""
    expected: str
    """What the field should have held."""

    def __init__(self, field: str, value: Any, expected: str) -> None:
        self.field, self.value, self.expected = field, value, expected
        super().__init__(f"field '{field}' is {value!r}; expected {expected}")


def _check_scale(x_min: float, x_max: float, bits: int) -> None:
    if not (isinstance(bits, int) and 1 <= bits <= 32):
        raise CodecError("bits", bits, "an int in [1, 32]")
    if not (math.isfinite(x_min) and math.isfinite(x_max) and x_max > x_min):
        raise CodecError("range", (x_min, x_max), "finite x_min < x_max")


def clamp_finite(x: float, x_min: float, x_max: float, field: str = "value", unit: str = "") -> float:
    """Clamp a finite number into [x_min, x_max]; reject NaN and ±Inf.

    Args:
        x: The value in SI units.
        x_min: Lower end of the range (same unit).
        x_max: Upper end of the range (same unit).
        field: Field name used in the error message.
        unit: Unit used in the error message (e.g. "rad").

    Returns:
        `x` saturated to [x_min, x_max], as a float.

    Raises:
        CodecError: `x` is not a real number, or is NaN or ±Inf.
    """
    try:
        value = float(x)
    except (TypeError, ValueError):
        raise CodecError(field, x, f"a finite number{f' ({unit})' if unit else ''}") from None
    if not math.isfinite(value):
        raise CodecError(field, x, f"a finite number{f' ({unit})' if unit else ''}")
    return min(max(value, x_min), x_max)


DECODE_SLACK_LSB = 1e-6
"""Added before truncation so that re-encoding a decoded value gives back the same integer (the decode
rounding error is ~1e-11 LSB; without it k·span/max + min can scale back to k − 0.000…1 → k − 1)."""


def float_to_uint(x: float, x_min: float, x_max: float, bits: int, *, field: str = "value", unit: str = "") -> int:
    """Scale a value onto an unsigned `bits`-bit integer, clamping it into [x_min, x_max] first.

    Matches Katz's `float_to_uint` (truncation toward zero of (x − x_min)·(2^bits − 1)/span), computed
    in float64 rather than the firmware's float32 and with 1e-6 LSB of slack so that
    `float_to_uint(uint_to_float(k)) == k`; a value within ~1e-6 LSB of a step boundary may therefore land
    one step apart from the firmware. `x_max` maps exactly to 2^bits − 1.

    Args:
        x: The value in SI units.
        x_min: Value that maps to 0.
        x_max: Value that maps to 2^bits − 1.
        bits: Width of the integer field, 1..32.
        field: Field name used in error messages.
        unit: Unit used in error messages.

    Returns:
        The integer in [0, 2^bits − 1].

    Raises:
        CodecError: `x` is NaN or ±Inf, or the range / width is invalid.
    """
    _check_scale(x_min, x_max, bits)
    value = clamp_finite(x, x_min, x_max, field, unit)
    max_int = (1 << bits) - 1
    if value >= x_max:
        return max_int
    scaled = int((value - x_min) * max_int / (x_max - x_min) + DECODE_SLACK_LSB)
    return min(max(scaled, 0), max_int)


def uint_to_float(x_int: int, x_min: float, x_max: float, bits: int, *, field: str = "value") -> float:
    """Map an unsigned `bits`-bit integer back onto [x_min, x_max] (Katz's `uint_to_float`).

    Args:
        x_int: The integer from the wire, in [0, 2^bits − 1].
        x_min: Value of 0.
        x_max: Value of 2^bits − 1.
        bits: Width of the integer field, 1..32.
        field: Field name used in error messages.

    Returns:
        The value in SI units.

    Raises:
        CodecError: `x_int` is out of range for `bits`, or the range / width is invalid.
    """
    _check_scale(x_min, x_max, bits)
    max_int = (1 << bits) - 1
    if not (isinstance(x_int, int) and 0 <= x_int <= max_int):
        raise CodecError(field, x_int, f"an int in [0, {max_int}]")
    return x_int * (x_max - x_min) / max_int + x_min


def quantization_step(x_min: float, x_max: float, bits: int) -> float:
    """One least-significant bit of a `bits`-bit field over [x_min, x_max], in the field's unit."""
    _check_scale(x_min, x_max, bits)
    return (x_max - x_min) / ((1 << bits) - 1)


@dataclass(frozen=True)
class MotorLimits:
    """The ranges a motor's firmware scales its impedance-command and feedback fields over.

    These are wire-format ranges, not safe operating limits: they must equal the constants compiled
    into the drive's firmware, or every value decodes with the wrong scale. Joint limits belong in
    robot.yaml and `SafetyGuard`.
    """

    p_min: float
    """Position at integer 0 (rad)."""
    p_max: float
    """Position at the largest integer (rad)."""
    v_min: float
    """Velocity at integer 0 (rad/s)."""
    v_max: float
    """Velocity at the largest integer (rad/s)."""
    kp_min: float
    """Position gain at integer 0 (N·m/rad), usually 0."""
    kp_max: float
    """Position gain at the largest integer (N·m/rad)."""
    kd_min: float
    """Damping gain at integer 0 (N·m·s/rad), usually 0."""
    kd_max: float
    """Damping gain at the largest integer (N·m·s/rad)."""
    t_min: float
    """Torque at integer 0 (N·m); feed-forward in commands, measured/estimated in replies."""
    t_max: float
    """Torque at the largest integer (N·m)."""

    def __post_init__(self) -> None:
        """Check every range is finite and non-empty."""
        for name in ("p", "v", "kp", "kd", "t"):
            lo, hi = getattr(self, f"{name}_min"), getattr(self, f"{name}_max")
            if not (isinstance(lo, (int, float)) and isinstance(hi, (int, float))):
                raise CodecError(f"{name}_min/{name}_max", (lo, hi), "real numbers")
            if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
                raise CodecError(f"{name}_min/{name}_max", (lo, hi), f"finite {name}_min < {name}_max")

    def as_dict(self) -> dict[str, float]:
        """The ten range ends by field name (for logging and config files)."""
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}
