"""Vectorised clamp-and-scale for encoding one impedance command per motor for many motors at once.

The numpy twin of `physai.drivers.limits.float_to_uint` / `uint_to_float` / `clamp_finite`, for the batch
encoders `physai.drivers.mit.encode_commands` and `physai.drivers.robstride.encode_motion_controls`: the
same float64 operations in the same order (clamp in SI units, subtract x_min, times 2^bits − 1, divide by
the span, add the decode slack, truncate; x_max → 2^bits − 1), so every integer and every decoded value
equals the scalar codec's bit for bit.

Layout: the five command fields are rows in the order of `COMMAND_FIELDS` (position, velocity, kp, kd,
torque_ff), motors are columns: values and integers have shape (5, n) for n motors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, TypeVar

import numpy as np

from physai.drivers.limits import DECODE_SLACK_LSB, CodecError, MotorLimits

__all__ = [
    "COMMAND_FIELDS",
    "FieldTable",
    "check_finite",
    "dequantize",
    "pack_words",
    "quantize",
    "stack_fields",
    "word_shifts",
    "words_to_bytes",
]

COMMAND_FIELDS = ("position", "velocity", "kp", "kd", "torque_ff")
"""Row names of a (5, n) command array, as the scalar codecs name them in errors."""
_LIMIT_PREFIX = ("p", "v", "kp", "kd", "t")
"""`MotorLimits` attribute prefix of each row (`p` → p_min / p_max)."""
_UNITS = ("rad", "rad/s", "N·m/rad", "N·m·s/rad", "N·m")
"""SI unit of each row, as the scalar codecs write it in errors."""

T = TypeVar("T", bound="FieldTable")


@dataclass(frozen=True, eq=False)
class FieldTable:
    """Per-motor wire ranges of the five command fields of n motors of one protocol, built once.

    Subclasses set `bits` (field widths, row order) and `check_order` (the order in which the protocol's
    scalar encoder validates the fields, so the batch reports the same field for a non-finite input).
    """

    bits: ClassVar[tuple[int, int, int, int, int]]
    """Width of each row's integer field, bits."""
    check_order: ClassVar[tuple[int, ...]] = (0, 1, 2, 3, 4)
    """Rows in the order the scalar encoder checks them."""

    limits: tuple[MotorLimits, ...]
    """The n motors' wire ranges."""
    labels: tuple[str, ...]
    """Name of each motor in error messages (default: its index)."""
    lo: np.ndarray
    """Value of integer 0, shape (5, n), SI units."""
    hi: np.ndarray
    """Value of the largest integer, shape (5, n), SI units."""
    span: np.ndarray
    """hi − lo, shape (5, n)."""
    max_int: np.ndarray
    """2^bits − 1 per row as float64, shape (5, 1)."""
    top: np.ndarray
    """2^bits − 1 per row as int64, shape (5, 1)."""

    @property
    def n(self) -> int:
        """Number of motors."""
        return len(self.limits)

    @classmethod
    def build(cls: type[T], limits_list: Sequence[MotorLimits], labels: Sequence[str] | None = None) -> T:
        """The table of `limits_list` (one entry per motor, any n ≥ 0); `labels` name the motors in errors.

        Raises:
            CodecError: `labels` is not one per motor.
        """
        limits = tuple(limits_list)
        names = tuple(str(i) for i in range(len(limits))) if labels is None else tuple(map(str, labels))
        if len(names) != len(limits):
            raise CodecError("labels", names, f"{len(limits)} labels, one per motor")
        lo = _frozen([[float(getattr(m, f"{p}_min")) for m in limits] for p in _LIMIT_PREFIX], len(limits))
        hi = _frozen([[float(getattr(m, f"{p}_max")) for m in limits] for p in _LIMIT_PREFIX], len(limits))
        max_int = _frozen([[float((1 << b) - 1)] for b in cls.bits], 1)
        top = max_int.astype(np.int64)
        top.setflags(write=False)
        return cls(limits, names, lo, hi, _frozen(hi - lo, len(limits)), max_int, top)


def _frozen(rows: Sequence[Sequence[float]] | np.ndarray, n: int) -> np.ndarray:
    array = np.array(rows, dtype=np.float64).reshape(len(COMMAND_FIELDS), n)
    array.setflags(write=False)
    return array


def stack_fields(p: np.ndarray, v: np.ndarray, kp: np.ndarray, kd: np.ndarray, t_ff: np.ndarray, n: int) -> np.ndarray:
    """The five command fields as one float64 array of shape (5, n); scalars broadcast.

    Raises:
        CodecError: A field does not have shape (n,) (or ()).
    """
    values = np.empty((len(COMMAND_FIELDS), n))
    row, fields = 0, (p, v, kp, kd, t_ff)
    try:
        for row, x in enumerate(fields):  # `row` names the failing field below
            values[row] = x
    except (ValueError, TypeError):
        raise CodecError(COMMAND_FIELDS[row], np.shape(fields[row]), f"numbers of shape ({n},)") from None
    return values


def check_finite(
    values: np.ndarray,
    table: FieldTable,
    *,
    lead_ok: np.ndarray | None = None,
    lead_error: Callable[[int], CodecError] | None = None,
) -> None:
    """Raise `CodecError` for the first motor that the scalar encoder would reject, as it would.

    The scalar encoders are called motor by motor and check one field after the other, so the error is
    about the lowest motor index with any bad value and, within it, the first bad field in the protocol's
    check order (`table.check_order`).

    Args:
        values: Shape (5, n), rows `COMMAND_FIELDS`.
        table: The n motors' ranges and labels.
        lead_ok: Shape (n,) bool, a check the scalar makes before any field (Robstride: the target id).
        lead_error: The error for motor i failing `lead_ok`.

    Raises:
        CodecError: field "<name>[<label>]" (e.g. "position[3]"), the value, "a finite number (<unit>)".
    """
    finite = np.isfinite(values)
    if finite.all() and (lead_ok is None or lead_ok.all()):
        return
    order = list(table.check_order)
    bad = ~finite[order]
    if lead_ok is not None:
        bad = np.vstack([~lead_ok, bad])
    motor = int(np.argmax(bad.any(axis=0)))
    row = int(np.argmax(bad[:, motor]))
    if lead_ok is not None and lead_error is not None:
        if row == 0:
            raise lead_error(motor)
        row -= 1
    field = order[row]
    name = f"{COMMAND_FIELDS[field]}[{table.labels[motor]}]"
    raise CodecError(name, values[field, motor].item(), f"a finite number ({_UNITS[field]})")


def quantize(
    values: np.ndarray,
    table: FieldTable,
    *,
    lead_ok: np.ndarray | None = None,
    lead_error: Callable[[int], CodecError] | None = None,
) -> np.ndarray:
    """Clamp each value to its motor's range and scale it onto its field's integer (`float_to_uint`).

    Args:
        values: Shape (5, n) float64, rows `COMMAND_FIELDS`, SI units.
        table: The n motors' ranges.
        lead_ok: Shape (n,) bool, a per-motor check made before the fields (see `check_finite`).
        lead_error: The error for motor i failing `lead_ok`.

    Returns:
        Shape (5, n) int64, each in [0, 2^bits − 1].

    Raises:
        CodecError: A value is NaN or ±Inf (or `lead_ok` is False); names the first such motor and, in the
            protocol's check order, its first such field (e.g. "position[3]").
    """
    check_finite(values, table, lead_ok=lead_ok, lead_error=lead_error)
    clamped = np.minimum(np.maximum(values, table.lo), table.hi)
    scaled = (clamped - table.lo) * table.max_int / table.span + DECODE_SLACK_LSB
    # clamped ≥ lo makes scaled > 0, so truncation toward zero (int() in the scalar) is astype.
    ints = np.minimum(scaled.astype(np.int64), table.top)
    return np.where(clamped >= table.hi, table.top, ints)


def dequantize(ints: np.ndarray, table: FieldTable) -> np.ndarray:
    """Map field integers back onto SI values (`uint_to_float`): shape (5, n) int → (5, n) float64."""
    return ints * table.span / table.max_int + table.lo


def word_shifts(bits: Sequence[int], word_bits: int = 64) -> np.ndarray:
    """Left shift of each field when the fields are concatenated most significant first into one word.

    Args:
        bits: Width of each field, in wire order; they must add up to `word_bits`.
        word_bits: Width of the word (an 8-byte CAN payload: 64).

    Returns:
        Shape (len(bits), 1) uint64, e.g. (48, 36, 24, 12, 0) for widths (16, 12, 12, 12, 12).
    """
    if sum(bits) != word_bits:
        raise CodecError("bits", tuple(bits), f"field widths adding up to {word_bits}")
    return (word_bits - np.cumsum(bits, dtype=np.uint64)).reshape(-1, 1)


def pack_words(ints: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Concatenate each column's fields into one word: (k, n) ints, (k, 1) `word_shifts` → (n,) uint64."""
    return np.bitwise_or.reduce(ints.astype(np.uint64) << shifts, axis=0)


def words_to_bytes(words: np.ndarray) -> np.ndarray:
    """(n,) uint64 words → (n, 8) uint8 payloads, big-endian (byte 0 = the word's most significant byte)."""
    return words.astype(">u8").view(np.uint8).reshape(-1, 8)
