"""FrameLink: a robot's CAN buses as one endpoint — batches of frames in and out, each frame on a named bus.

    link = open_link(hardware)                    # socketcan on a robot (python-can), or the virtual buses
    link.send_batch(batch)                        # every frame of this control tick; batch.bus says which bus
    batch = link.receive_batch()                  # every frame that has arrived (and finished its wire time)

Bus numbers are indices into `HardwareConfig.buses`. Two kinds:

* `PythonCanLink`: one python-can bus per configured bus (`socketcan` on a robot, `virtual` in-process,
  `udp_multicast`). python-can stays the interface to real buses; one `can.Message` per frame.
* `DatagramLink` (interface `datagram`): the virtual buses between processes, in the manner of a
  multi-channel CAN-over-UDP gateway: each `send_batch` is ONE UDP datagram carrying the tick's frames for
  every bus, multicast on loopback (only inside a network namespace the test or bringup creates, like
  python-can's udp_multicast), so a tick costs one syscall instead of one (plus an echo) per frame. It
  models each bus's wire: a frame is stamped with the time its last bit leaves a bus of that bus's bit rate
  (worst-case stuffed length, `physai.drivers.busload.worst_case_frame_bits`), serialised after whatever
  this end sent or heard last on that bus, and a receiver hands a frame out only once that time has come
  (CLOCK_MONOTONIC is shared by the processes of one host). So an overloaded bus delivers late, as a real
  one does.

Datagram layout (little endian): magic b"PCAN", version u8, sender u32 (random per link, so a link skips its
own multicast echoes), count u16, then `count` records of (bus u8, arbitration id u32 with bit 31 = 29-bit
id, dlc u8, data 8 bytes, wire end time f64 s on time.monotonic()).
"""

from __future__ import annotations

import os
import socket
import struct
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence

import can
import numpy as np

from physai.drivers.busload import worst_case_frame_bits
from physai.drivers.config import HardwareConfig
from physai.drivers.frame import CanFrame, FrameBatch

try:  # the compiled core packs the records (physai.drivers._cancore); numpy does the same without it
    from physai.drivers import _cancore
except ImportError:  # pragma: no cover - a source tree without a build
    _cancore = None

DATAGRAM_INTERFACE = "datagram"
"""`interface` of the virtual buses (`DatagramLink`)."""
DEFAULT_PORT = 43113
"""UDP port of a datagram channel that names none."""

_HEADER = struct.Struct("<4sBIH")
_MAGIC, _VERSION = b"PCAN", 2
_EXTENDED_FLAG = np.uint32(1 << 31)
_RECORD = np.dtype([("bus", "u1"), ("id", "<u4"), ("dlc", "u1"), ("data", "u1", (8,)), ("end_s", "<f8")])
_MAX_FRAMES = 2048
"""Frames per datagram (a backlog after a stall goes out as several)."""
_BITS = np.array([[worst_case_frame_bits(dlc, extended=ext) for ext in (False, True)] for dlc in range(9)], float)
"""Worst-case stuffed frame length (bits) by [dlc, extended]."""


class FrameLink(ABC):
    """The robot's CAN buses: send a batch of frames (each on its bus), receive what has arrived.

    The batch methods are the hot path of a control loop; `send` / `receive` (lists of (bus, CanFrame))
    serve code that handles frames one by one.
    """

    n_buses: int
    """Number of buses (bus indices 0..n_buses − 1)."""

    @abstractmethod
    def send_batch(self, batch: FrameBatch) -> int:
        """Put the frames on their buses in order; returns how many were accepted (the rest: send errors)."""

    @abstractmethod
    def receive_batch(self) -> FrameBatch:
        """Every frame received since the last call, in arrival order (never blocks)."""

    def send(self, frames: Sequence[tuple[int, CanFrame]]) -> int:
        """`send_batch` of (bus, frame) pairs."""
        return self.send_batch(FrameBatch.of(frames)) if frames else 0

    def receive(self) -> list[tuple[int, CanFrame]]:
        """`receive_batch` as (bus, frame) pairs."""
        return self.receive_batch().frames()

    @abstractmethod
    def close(self) -> None:
        """Release the buses."""


class PythonCanLink(FrameLink):
    """python-can buses (socketcan, virtual, udp_multicast), one per configured bus."""

    def __init__(self, buses: Sequence[can.BusABC]) -> None:
        self.buses = list(buses)
        self.n_buses = len(self.buses)

    def send_batch(self, batch: FrameBatch) -> int:
        """One `can.Message` per frame; a frame python-can refuses (buffer full, bus off) is not counted."""
        sent = 0
        for bus, arbitration_id, extended, dlc, row in zip(
            batch.bus.tolist(), batch.ids.tolist(), batch.extended.tolist(), batch.dlc.tolist(), batch.data, strict=True
        ):
            message = can.Message(arbitration_id=arbitration_id, data=bytes(row[:dlc]), is_extended_id=extended)
            try:
                self.buses[bus].send(message)
                sent += 1
            except can.CanError:
                pass
        return sent

    def receive(self) -> list[tuple[int, CanFrame]]:
        """Drain every bus's queue, bus by bus (error and remote frames are skipped)."""
        out = []
        for index, bus in enumerate(self.buses):
            while (msg := bus.recv(timeout=0)) is not None:
                if not (msg.is_error_frame or msg.is_remote_frame):
                    out.append((index, CanFrame(msg.arbitration_id, bytes(msg.data), msg.is_extended_id)))
        return out

    def receive_batch(self) -> FrameBatch:
        """`receive` as a batch."""
        return FrameBatch.of(self.receive())

    def close(self) -> None:
        """Shut every python-can bus down."""
        for bus in self.buses:
            bus.shutdown()


def parse_channel(channel: str) -> tuple[str, int]:
    """A datagram channel "group[:port]" → (group, port), e.g. 239.74.163.2 → (239.74.163.2, DEFAULT_PORT).

    Raises:
        ValueError: Not an IPv4 multicast group with an optional port (names the channel).
    """
    group, _, port = channel.partition(":")
    try:
        octets = [int(x) for x in group.split(".")]
        number = int(port) if port else DEFAULT_PORT
    except ValueError:
        octets, number = [], 0
    if len(octets) != 4 or not 224 <= octets[0] <= 239 or not 1 <= number <= 65535:
        raise ValueError(
            f"datagram channel {channel!r}; expected an IPv4 multicast group[:port], e.g. 239.74.163.2:43113"
        )
    return group, number


class DatagramLink(FrameLink):
    """The virtual buses over loopback multicast: one datagram per batch, each bus's wire time modelled.

    Args:
        channel: "group[:port]" (IPv4 multicast); every link on the same channel sees the same buses.
        bitrates: Bits per second of each bus's modelled wire.
    """

    def __init__(self, channel: str, bitrates: Sequence[int]) -> None:
        group, port = parse_channel(channel)
        self.n_buses = len(bitrates)
        self.bitrates = np.asarray(bitrates, float)
        self.sender = int.from_bytes(os.urandom(4), "little")
        self._address = (group, port)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((group, port))
        membership = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton("0.0.0.0"))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 0)  # never routed off this host
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
        sock.setblocking(False)
        self._sock = sock
        self._busy_until_s = np.zeros(self.n_buses)  # each wire is taken until then (our frames, or ones we heard)
        self._pending = np.empty(0, _RECORD)  # heard, still on the wire

    def send_batch(self, batch: FrameBatch) -> int:
        """One datagram for the whole batch; each frame stamped with the time its last bit is on its wire."""
        m = len(batch)
        if m == 0:
            return 0
        if m > _MAX_FRAMES:  # a backlog (e.g. after a stall): several datagrams
            return sum(self.send_batch(batch.slice(k, k + _MAX_FRAMES)) for k in range(0, m, _MAX_FRAMES))
        if _cancore is not None:
            records = bytearray(m * _RECORD.itemsize)
            arrays = (batch.ids, batch.extended, batch.dlc, batch.data, batch.bus)
            _cancore.pack(
                m, *map(np.ascontiguousarray, arrays), self.bitrates, self._busy_until_s, time.monotonic(), records
            )
        else:
            records = self._records_numpy(batch).tobytes()
        try:
            self._sock.sendto(_HEADER.pack(_MAGIC, _VERSION, self.sender, m) + records, self._address)
        except OSError:
            return 0
        return m

    def _records_numpy(self, batch: FrameBatch) -> np.ndarray:
        """The datagram records of a batch (the numpy twin of `_cancore.pack`), advancing each bus's wire."""
        m = len(batch)
        records = np.empty(m, _RECORD)
        records["bus"] = batch.bus
        records["id"] = batch.ids | (batch.extended.astype(np.uint32) << np.uint32(31))
        records["dlc"] = batch.dlc
        records["data"] = batch.data
        # per bus: frames back to back from max(now, the end of the last frame on that wire)
        duration = _BITS[batch.dlc, batch.extended.astype(np.intp)] / self.bitrates[batch.bus]
        order = np.argsort(batch.bus, kind="stable")
        ends_sorted = np.cumsum(duration[order])
        buses, first = np.unique(batch.bus[order], return_index=True)
        start = np.maximum(time.monotonic(), self._busy_until_s[buses])
        offset = start - np.concatenate(([0.0], ends_sorted))[first]  # restart the running sum at each bus
        ends = np.empty(m)
        ends[order] = ends_sorted + np.repeat(offset, np.diff(np.append(first, m)))
        records["end_s"] = ends
        self._busy_until_s[buses] = ends_sorted[np.append(first[1:], m) - 1] + offset
        return records

    def receive_batch(self) -> FrameBatch:
        """Frames from other links whose wire time is over, in wire order."""
        parts = [self._pending] if len(self._pending) else []
        while True:
            try:
                packet = self._sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            records = self._records(packet)
            if records is not None:
                parts.append(records)
                heard = np.full(self.n_buses, -np.inf)
                np.maximum.at(heard, records["bus"], records["end_s"])
                np.maximum(self._busy_until_s, heard, out=self._busy_until_s)  # a reply follows what it heard
        if not parts:
            return FrameBatch.empty()
        pending = parts[0] if len(parts) == 1 else np.concatenate(parts)
        if len(parts) > 1:
            pending = pending[np.argsort(pending["end_s"], kind="stable")]
        ready = pending["end_s"] <= time.monotonic()
        self._pending = pending[~ready]
        out = pending[ready]
        raw = out["id"]
        return FrameBatch(raw & ~_EXTENDED_FLAG, (raw & _EXTENDED_FLAG) != 0, out["dlc"], out["data"], out["bus"])

    def _records(self, packet: bytes) -> np.ndarray | None:
        """The records of a datagram from another link; None for anything else (our own echoes)."""
        if len(packet) < _HEADER.size:
            return None
        magic, version, sender, count = _HEADER.unpack_from(packet)
        if magic != _MAGIC or version != _VERSION or sender == self.sender or count == 0:
            return None
        if len(packet) != _HEADER.size + count * _RECORD.itemsize:
            return None
        records = np.frombuffer(packet, _RECORD, count, _HEADER.size)
        return records[records["bus"] < self.n_buses]

    def fileno(self) -> int:
        """The socket, for `select` (readable when a datagram is waiting)."""
        return self._sock.fileno()

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()


def open_link(config: HardwareConfig, *, interface: str | None = None, channel: str | None = None) -> FrameLink:
    """The FrameLink of `config`'s buses; `interface` / `channel` override every bus's (HIL, benches).

    datagram: all buses on one multicast channel (default the first bus's); virtual: python-can channel
    "<channel>-<bus name>" per bus; udp_multicast: one bus only; socketcan: each bus's own channel.
    """
    kind = interface or config.buses[0].interface
    if any(b.interface != kind for b in config.buses) and interface is None:
        raise ValueError(f"{config.source}: buses of different interfaces; expected one interface for all buses")
    if kind == DATAGRAM_INTERFACE:
        return DatagramLink(channel or config.buses[0].channel, [b.bitrate for b in config.buses])
    if kind == "udp_multicast" and len(config.buses) > 1:
        raise ValueError(f"{config.source}: udp_multicast carries one bus; use interface datagram for several buses")
    opened: list[can.BusABC] = []
    try:
        for bus in config.buses:
            kwargs: dict = {"interface": kind, "channel": bus.channel}
            if kind == "socketcan":
                kwargs.update(bitrate=bus.bitrate, fd=bus.fd)
            elif kind == "virtual" and channel:
                kwargs["channel"] = f"{channel}-{bus.name}"
            elif kind == "udp_multicast":
                kwargs.update(channel=channel or bus.channel, receive_own_messages=False)
            try:
                opened.append(can.Bus(**kwargs))
            except (OSError, can.CanError) as err:
                where = f"CAN bus {bus.name!r} ({kind} channel {kwargs['channel']})"
                raise OSError(f"cannot open {where}: {_why(kind, kwargs['channel'], err)}") from err
    except Exception:
        for bus in opened:
            bus.shutdown()
        raise
    return PythonCanLink(opened)


def as_link(link: FrameLink | can.BusABC, config: HardwareConfig) -> FrameLink:
    """A FrameLink for `config`: the link itself, or one python-can bus wrapped for a one-bus config."""
    if isinstance(link, can.BusABC):
        link = PythonCanLink([link])
    if link.n_buses != len(config.buses):
        raise ValueError(f"a link of {link.n_buses} bus(es) for {config.source}; expected {len(config.buses)}")
    return link


def _why(kind: str, channel: str, err: Exception) -> str:
    """What a failed bus open means for the user: the cause and what to do (SocketCAN's errnos spelled out)."""
    errno_ = getattr(err, "errno", None)
    if kind == "socketcan" and errno_ == 97:  # EAFNOSUPPORT
        return (
            "this kernel has no SocketCAN (errno 97, address family not supported); expected a Linux host with the "
            "can/can_raw modules and the adapter up, or `physai launch hil` for virtual motors"
        )
    if kind == "socketcan" and errno_ == 19:  # ENODEV
        return (
            f"no network interface {channel} (errno 19); expected the adapter up: "
            f"`ip link set {channel} up type can bitrate 1000000`"
        )
    return str(err)
