"""CAN wire time and bus load: how long frames occupy the bus, and whether a control cycle fits.

Model. A classic CAN 2.0 data frame is the bit sequence SOF .. CRC sequence (``g + 8n`` bits, ``g`` = 34 for an 11-bit
id, 54 for a 29-bit id, ``n`` payload bytes), bit-stuffed (after five identical bits the transmitter inserts a
complementary bit, which itself starts the next run), followed by a fixed, unstuffed tail of 13 bits: CRC delimiter 1,
ACK slot 1, ACK delimiter 1, EOF 7 and the 3-bit intermission. Every bit count here *includes* the intermission, so a
frame's end time is the instant the next frame may start its SOF.

:func:`frame_bits` counts the stuff bits actually inserted for one id/payload (with the real CRC-15); the load check
uses :func:`worst_case_frame_bits` instead, because the payload changes every cycle and the budget must hold for the
worst. CAN FD frames are covered by :func:`fd_worst_case_frame_time_s` (two bit rates). Error frames, retransmissions
and arbitration delay are not modelled; that is what the headroom below :data:`WARN_LOAD` is for.

The virtual bus that serialises frames on each wire with these lengths is physai.drivers.link.DatagramLink.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

REFUSE_LOAD = 1.0
"""Bus load (fraction of the period) above which a configuration is refused: the cycle cannot fit on the wire."""
WARN_LOAD = 0.7
"""Bus load above which a configuration is accepted with a warning: little headroom for errors and jitter."""

CRC15_POLY = 0x4599
_TAIL_BITS = 13  # CRC delimiter 1 + ACK slot 1 + ACK delimiter 1 + EOF 7 + intermission 3 (classic, unstuffed)
_FD_LENGTHS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64)


class BusLoadError(ValueError):
    """A bus cannot carry one control cycle's frames within the period."""


def _bits(value: int, width: int) -> list[int]:
    """Return ``value`` as ``width`` bits, most significant first."""
    return [(value >> i) & 1 for i in range(width - 1, -1, -1)]


def crc15(bits: Sequence[int]) -> int:
    """CAN CRC-15 (polynomial 0x4599, initial value 0) of unstuffed bits (SOF .. data field for a real frame)."""
    crc = 0
    for bit in bits:
        feedback = bit ^ ((crc >> 14) & 1)
        crc = (crc << 1) & 0x7FFF
        if feedback:
            crc ^= CRC15_POLY
    return crc


def frame_bits_unstuffed(arbitration_id: int, data: bytes, *, extended: bool) -> list[int]:
    """Bits of a classic CAN 2.0 data frame from SOF through the CRC sequence, before stuffing.

    Args:
        arbitration_id: 11-bit (standard) or 29-bit (extended) identifier.
        data: Payload, 0..8 bytes.
        extended: Whether the frame uses the 29-bit identifier format.

    Returns:
        The ``g + 8n`` bits (``g`` = 34 standard, 54 extended) as 0/1 ints; 0 is dominant.

    Raises:
        ValueError: The identifier does not fit its format or the payload exceeds 8 bytes.
    """
    if not 0 <= arbitration_id < (1 << (29 if extended else 11)):
        raise ValueError(f"CAN id {arbitration_id:#x} does not fit a {'29' if extended else '11'}-bit identifier")
    if len(data) > 8:
        raise ValueError(f"classic CAN payload is at most 8 bytes, got {len(data)}")
    if extended:  # SOF, base id, SRR=1, IDE=1, id extension, RTR=0, r1=0, r0=0
        head = [0, *_bits(arbitration_id >> 18, 11), 1, 1, *_bits(arbitration_id & 0x3FFFF, 18), 0, 0, 0]
    else:  # SOF, id, RTR=0, IDE=0, r0=0
        head = [0, *_bits(arbitration_id, 11), 0, 0, 0]
    body = head + _bits(len(data), 4) + [b for byte in data for b in _bits(byte, 8)]
    return body + _bits(crc15(body), 15)


def stuff_bit_count(bits: Sequence[int]) -> int:
    """Number of stuff bits inserted into ``bits``: after 5 identical bits, a complementary one.

    The inserted bit counts toward the following run; a stuff bit also follows the last bit when that completes a
    run of five (as after the CRC sequence of a classic frame).
    """
    count, run, last = 0, 0, -1
    for bit in bits:
        run = run + 1 if bit == last else 1
        last = bit
        if run == 5:
            count += 1
            last, run = 1 - bit, 1
    return count


def frame_bits(arbitration_id: int, data: bytes, *, extended: bool) -> int:
    """Exact wire length in bits of one classic data frame (see :func:`frame_bits_unstuffed`), stuff bits included."""
    bits = frame_bits_unstuffed(arbitration_id, data, extended=extended)
    return len(bits) + stuff_bit_count(bits) + _TAIL_BITS


def unstuffed_frame_bits(dlc: int, *, extended: bool) -> int:
    """Bits of a classic frame of ``dlc`` (0..8) payload bytes without stuff bits: ``g + 8n + 13`` (111 / 131 for 8)."""
    if not 0 <= dlc <= 8:
        raise ValueError(f"classic CAN payload is 0..8 bytes, got {dlc}")
    return (54 if extended else 34) + 8 * dlc + _TAIL_BITS


def worst_case_frame_bits(dlc: int, *, extended: bool) -> int:
    """Worst-case bits of a classic frame (Tindell/Davis): ``g + 8n + 13 + floor((g + 8n - 1) / 4)``.

    135 (standard) / 160 (extended) for 8 payload bytes, 55 for an empty standard frame; ``dlc`` is 0..8 bytes.
    """
    stuffed = unstuffed_frame_bits(dlc, extended=extended) - _TAIL_BITS
    return stuffed + _TAIL_BITS + (stuffed - 1) // 4


def fd_payload_length(nbytes: int) -> int:
    """Smallest CAN FD data field in bytes (0..8, 12, 16, 20, 24, 32, 48, 64) that holds ``nbytes`` (0..64)."""
    if not 0 <= nbytes <= 64:
        raise ValueError(f"CAN FD payload is 0..64 bytes, got {nbytes}")
    return next(length for length in _FD_LENGTHS if nbytes <= length)


def fd_worst_case_frame_time_s(
    dlc: int, *, extended: bool, nominal_bitrate: int, data_bitrate: int, brs: bool = True
) -> float:
    """Worst-case wire time of one CAN FD data frame (ISO 11898-1:2015 layout), intermission included.

    Layout: SOF, 11-bit id (or base id, SRR, IDE, 18-bit extension), RRS, IDE (standard), FDF, res, BRS form the
    arbitration phase (17 / 36 bits); ESI, DLC and the data field follow; then the CRC field: stuff count (3 bits +
    parity), CRC-17 (data ≤ 16 bytes) or CRC-21, with fixed stuff bits before the stuff count and after every 4th bit
    (6 / 7 of them), and the CRC delimiter; then ACK slot, ACK delimiter, EOF 7 and intermission 3 at the nominal rate.

    Approximations: the bit-rate switch is taken at bit boundaries (BRS counted at the nominal rate, the CRC
    delimiter at the data rate) instead of at the sample points; dynamic stuffing (SOF through the data field) is
    bounded as in classic CAN by ``floor((L - 1) / 4)`` for the ``L`` bits, of which ``floor((A - 1) / 4)`` fall in the
    ``A`` arbitration bits, ignoring that fixed control bits make this pattern slightly unreachable (conservative).

    Args:
        dlc: Payload length in bytes, 0..64; rounded up to the next valid FD length (the controller pads).
        extended: Whether the frame uses the 29-bit identifier format.
        nominal_bitrate: Arbitration-phase bit rate in bit/s.
        data_bitrate: Data-phase bit rate in bit/s (used only when ``brs``).
        brs: Whether the frame switches to ``data_bitrate`` (bit-rate switch); if not, all bits run at nominal.

    Returns:
        Seconds the frame occupies the bus.
    """
    n = fd_payload_length(dlc)
    arbitration = 36 if extended else 17
    dynamic = arbitration + 5 + 8 * n
    arb_stuff = (arbitration - 1) // 4
    data_stuff = (dynamic - 1) // 4 - arb_stuff
    crc_field = 4 + 6 + 17 if n <= 16 else 4 + 7 + 21
    nominal_bits = arbitration + arb_stuff + 12  # + ACK slot, ACK delimiter, EOF, intermission
    data_bits = 5 + 8 * n + data_stuff + crc_field + 1  # ESI, DLC, data, stuff bits, CRC field, CRC delimiter
    if not brs:
        return (nominal_bits + data_bits) / nominal_bitrate
    return nominal_bits / nominal_bitrate + data_bits / data_bitrate


@dataclass(frozen=True)
class BusLoad:
    """Worst-case wire time of one control cycle on one bus.

    Attributes:
        name: Bus name (e.g. ``"left_leg"``).
        wire_time_s: Worst-case seconds of wire time per control cycle, all frames together.
        period_s: Control period in seconds.
        bitrate: Nominal bit rate in bit/s.
        n_frames: Frames per cycle (commands and replies).
        data_bitrate: CAN FD data-phase bit rate in bit/s, or None for classic CAN / no bit-rate switch.
    """

    name: str
    wire_time_s: float
    period_s: float
    bitrate: int
    n_frames: int
    data_bitrate: int | None = None

    @property
    def load(self) -> float:
        """Fraction of the period the bus is busy (1.0 = 100 %)."""
        return self.wire_time_s / self.period_s

    def describe(self) -> str:
        """One line: bus, load in percent, wire time per cycle (µs), period (ms) and bit rate."""
        rate = f"{self.bitrate} bit/s" + (f" / {self.data_bitrate} bit/s data" if self.data_bitrate else "")
        return (
            f"bus '{self.name}': {self.load * 100:.0f}% load ({self.wire_time_s * 1e6:.0f} µs of wire time per "
            f"{self.period_s * 1e3:.2f} ms period at {rate})"
        )


def bus_load(
    name: str,
    frames: Sequence[tuple[int, bool]],
    period_s: float,
    *,
    bitrate: int,
    fd: bool = False,
    data_bitrate: int | None = None,
) -> BusLoad:
    """Worst-case load of one bus for one control cycle.

    Args:
        name: Bus name, for messages.
        frames: ``(payload bytes, extended)`` of every frame on the bus in one cycle, commands and replies.
        period_s: Control period in seconds (must be > 0).
        bitrate: Nominal bit rate in bit/s.
        fd: Whether the frames are CAN FD frames; classic frames (the default) run entirely at ``bitrate``.
        data_bitrate: CAN FD data-phase bit rate in bit/s; given, the frames use bit-rate switching.

    Returns:
        The cycle's :class:`BusLoad`, computed with worst-case stuffing.
    """
    if period_s <= 0:
        raise ValueError(f"period must be positive, got {period_s} s")
    if fd:
        brs = data_bitrate is not None
        wire = sum(
            fd_worst_case_frame_time_s(
                d, extended=e, nominal_bitrate=bitrate, data_bitrate=data_bitrate or bitrate, brs=brs
            )
            for d, e in frames
        )
        return BusLoad(name, wire, period_s, bitrate, len(frames), data_bitrate if brs else None)
    bits = sum(worst_case_frame_bits(d, extended=e) for d, e in frames)
    return BusLoad(name, bits / bitrate, period_s, bitrate, len(frames))


def check_bus_loads(loads: Sequence[BusLoad]) -> list[str]:
    """Refuse overloaded buses and warn about busy ones.

    Returns:
        A warning string for every bus (one :class:`BusLoad` each) above :data:`WARN_LOAD`.

    Raises:
        BusLoadError: Some bus is above :data:`REFUSE_LOAD`; the message names each such bus, its load, wire time per
            cycle, period and bit rate.
    """
    refused = [
        f"{b.describe()}; expected ≤ {REFUSE_LOAD:.0%} — put fewer motors on it or lower the loop rate"
        for b in loads
        if b.load > REFUSE_LOAD
    ]
    if refused:
        raise BusLoadError("; ".join(refused))
    return [
        f"{b.describe()}; above {WARN_LOAD:.0%} — little headroom for retransmissions and jitter"
        for b in loads
        if b.load > WARN_LOAD
    ]
