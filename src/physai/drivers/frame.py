"""A transport-neutral CAN frame: what the codecs produce and consume (no python-can here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from physai.drivers.limits import CodecError

__all__ = ["EXTENDED_ID_MAX", "STANDARD_ID_MAX", "CanFrame", "FrameBatch"]

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


@dataclass(frozen=True, eq=False)
class FrameBatch:
    """m classic CAN frames as arrays, for hot paths that must not build one Python object per frame.

    `ids` (m,) uint32 arbitration ids; `extended` (m,) bool (29-bit ids); `dlc` (m,) uint8 payload lengths
    (0..8); `data` (m, 8) uint8 payloads, zero-padded past `dlc`; `bus` (m,) uint8, the bus each frame is on
    (an index into the hardware config's buses).
    """

    ids: np.ndarray
    extended: np.ndarray
    dlc: np.ndarray
    data: np.ndarray
    bus: np.ndarray

    FIELDS: ClassVar[tuple[str, ...]] = ("ids", "extended", "dlc", "data", "bus")

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def empty(cls) -> FrameBatch:
        """A batch of no frames."""
        return cls(
            np.zeros(0, np.uint32),
            np.zeros(0, bool),
            np.zeros(0, np.uint8),
            np.zeros((0, 8), np.uint8),
            np.zeros(0, np.uint8),
        )

    @classmethod
    def of(cls, frames: Sequence[tuple[int, CanFrame]]) -> FrameBatch:
        """The batch of (bus, frame) pairs."""
        if not frames:
            return cls.empty()
        payload = b"".join(f.data.ljust(8, b"\0") for _, f in frames)
        return cls(
            np.array([f.arbitration_id for _, f in frames], np.uint32),
            np.array([f.is_extended_id for _, f in frames], bool),
            np.array([len(f.data) for _, f in frames], np.uint8),
            np.frombuffer(payload, np.uint8).reshape(-1, 8),
            np.array([bus for bus, _ in frames], np.uint8),
        )

    def frames(self) -> list[tuple[int, CanFrame]]:
        """(bus, CanFrame) per row (for code that handles frames one by one)."""
        rows = zip(
            self.bus.tolist(), self.ids.tolist(), self.extended.tolist(), self.dlc.tolist(), self.data, strict=True
        )
        return [(bus, CanFrame(i, bytes(row[:n]), e)) for bus, i, e, n, row in rows]

    def slice(self, start: int, stop: int) -> FrameBatch:
        """Rows start..stop − 1."""
        return FrameBatch(*(getattr(self, f)[start:stop] for f in self.FIELDS))

    @staticmethod
    def concat(batches: Sequence[FrameBatch]) -> FrameBatch:
        """One batch of several, in order."""
        batches = [b for b in batches if len(b)]
        if not batches:
            return FrameBatch.empty()
        if len(batches) == 1:
            return batches[0]
        return FrameBatch(*(np.concatenate([getattr(b, f) for b in batches]) for f in FrameBatch.FIELDS))
