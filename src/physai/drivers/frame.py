"""A transport-neutral CAN frame: what the codecs produce and consume (no python-can here)."""

from __future__ import annotations

from dataclasses import dataclass

from physai.drivers.limits import CodecError

__all__ = ["EXTENDED_ID_MAX", "STANDARD_ID_MAX", "CanFrame"]

STANDARD_ID_MAX = 0x7FF
"""Largest 11-bit (standard) arbitration id."""
EXTENDED_ID_MAX = 0x1FFF_FFFF
"""Largest 29-bit (extended) arbitration id."""


@dataclass(frozen=True)
class CanFrame:
    """One classic CAN data frame (≤ 8 data bytes)."""

    arbitration_id: int
    """11-bit or 29-bit identifier, as an int."""
    data: bytes
    """Payload, 0..8 bytes."""
    is_extended_id: bool = False
    """True for a 29-bit identifier."""

    def __post_init__(self) -> None:
        """Check the id fits its width and the payload is ≤ 8 bytes."""
        id_max = EXTENDED_ID_MAX if self.is_extended_id else STANDARD_ID_MAX
        if not (isinstance(self.arbitration_id, int) and 0 <= self.arbitration_id <= id_max):
            raise CodecError("arbitration_id", self.arbitration_id, f"an int in [0, {id_max:#x}]")
        if not isinstance(self.data, bytes):
            object.__setattr__(self, "data", bytes(self.data))
        if len(self.data) > 8:
            raise CodecError("data", self.data.hex(" "), "at most 8 bytes")
