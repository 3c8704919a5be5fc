"""Read rosbag2 MCAP bags — finalized or cut short — and repair ones a killed recorder left behind.

`read_bag` and `message_counts` accept a bag directory or an `.mcap` file. A finalized file (footer,
summary) is read through its index in log-time order with mcap + mcap_ros2. A file without a footer
(the recorder was SIGKILLed, or the machine lost power) is scanned record by record: every complete
chunk is used, the torn tail is ignored, and no exception is raised. Messages then come in file order.

How other readers handle a file without a footer:

- `mcap.stream_reader.StreamReader` / `NonSeekingReader`: yield every complete chunk's records, then
  raise `mcap.exceptions.EndOfFile` (a torn tail may instead give `struct.error` or a CRC error).
- `mcap.reader.make_reader(file)` (`SeekingReader`): reads the last bytes as a footer and raises
  (with mcap 1.6.0: `RecordLengthLimitExceeded`, since those bytes are chunk data).
- `rosbags.rosbag2.Reader`: needs metadata.yaml, and its MCAP reader needs the footer magic
  ("File end magic is invalid.").

`recover(path)` rewrites the readable prefix as a finalized file (atomic replace) and writes
metadata.yaml, after which every reader above opens the bag normally.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import os
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import yaml
from mcap.data_stream import ReadDataStream
from mcap.opcode import Opcode
from mcap.reader import make_reader
from mcap.records import (
    Channel,
    Chunk,
    DataEnd,
    Footer,
    Header,
    McapRecord,
    Message,
    Metadata,
    Schema,
)
from mcap.stream_reader import breakup_chunk
from mcap.writer import CompressionType, Writer
from mcap_ros2.decoder import DecoderFactory

from physai.record.bagmeta import TopicRecord, bag_metadata, write_metadata

MAGIC = b"\x89MCAP0\r\n"
_FOOTER_LEN = 1 + 8 + 8 + 8 + 4  # opcode, length, summary_start, summary_offset_start, summary_crc
_READERS: dict[int, Callable[[ReadDataStream, int], McapRecord]] = {
    Opcode.HEADER: lambda s, _n: Header.read(s),
    Opcode.SCHEMA: lambda s, _n: Schema.read(s),
    Opcode.CHANNEL: lambda s, _n: Channel.read(s),
    Opcode.MESSAGE: Message.read,
    Opcode.CHUNK: lambda s, _n: Chunk.read(s),
    Opcode.METADATA: lambda s, _n: Metadata.read(s),
    Opcode.DATA_END: lambda s, _n: DataEnd.read(s),
    Opcode.FOOTER: lambda s, _n: Footer.read(s),
}


class BagFormatError(ValueError):
    """The path is not an MCAP bag (no .mcap file, or not MCAP data); the message names the path."""


class BagMessage(NamedTuple):
    """One recorded message."""

    topic: str
    """Topic name."""
    type_name: str
    """ROS 2 type name (the MCAP schema name), e.g. "sensor_msgs/msg/JointState"."""
    log_time_ns: int
    """Receive time, ns."""
    message: Any
    """Decoded message (mcap_ros2 dynamic object: attribute access like the rclpy message), or the raw
    CDR bytes when `decode=False`."""
    publish_time_ns: int = 0
    """Publish time, ns: the publisher's clock when it wrote the message (DDS source timestamp), as rosbag2
    records it; the receive time where the recorder had none."""


@dataclass(frozen=True)
class TopicInfo:
    """A topic of a bag."""

    name: str
    """Topic name."""
    type_name: str
    """ROS 2 type name."""
    message_count: int
    """Messages on the topic."""
    offered_qos_profiles: str = ""
    """rosbag2 QoS YAML string from the channel metadata."""
    type_hash: str = ""
    """RIHS01 hash from the channel metadata."""


@dataclass(frozen=True)
class BagInfo:
    """Summary of a bag, as `physai record --info` prints it."""

    path: Path
    """The MCAP file."""
    finalized: bool
    """True if the file has its summary and footer; False for a recording cut short."""
    message_count: int
    """Messages in the bag (in the readable part, if not finalized)."""
    start_ns: int | None
    """Earliest log time, ns (None without messages)."""
    end_ns: int | None
    """Latest log time, ns (None without messages)."""
    topics: tuple[TopicInfo, ...]
    """Topics in channel order."""
    recorded_count: int | None = None
    """Messages the recorder wrote, from metadata.yaml (None without one): more than `message_count` means the
    file lost messages after it was written (truncated, a torn copy)."""

    @property
    def duration_s(self) -> float:
        """Time span end - start in seconds (0 without messages)."""
        return 0.0 if self.start_ns is None or self.end_ns is None else (self.end_ns - self.start_ns) / 1e9

    @property
    def missing(self) -> int:
        """Messages metadata.yaml counts that the file no longer holds (0 when it holds them all)."""
        return max(0, (self.recorded_count or 0) - self.message_count)

    def table(self) -> str:
        """The bag as `ros2 bag info` shows it: file, state, duration, counts, then one row per topic."""
        size = self.path.stat().st_size if self.path.is_file() else 0
        state = "finalized" if self.finalized else "not finalized (no footer: the readable part was scanned)"
        start = "-" if self.start_ns is None else f"{self.start_ns / 1e9:.3f} s"
        lines = [
            f"Files:     {self.path} ({size / 1024:,.1f} KiB, mcap, {state})",
            f"Duration:  {self.duration_s:.3f} s (start {start})",
            f"Messages:  {self.message_count:,}",
        ]
        if self.missing:
            lines.append(f"WARNING:   {self.missing:,} of {self.recorded_count:,} recorded messages are gone")
        width = max([len(t.name) for t in self.topics] + [5])
        type_width = max([len(t.type_name) for t in self.topics] + [4])
        lines.append(f"{'topic':<{width}}  {'type':<{type_width}}  count")
        lines += [f"{t.name:<{width}}  {t.type_name:<{type_width}}  {t.message_count:,}" for t in self.topics]
        return "\n".join(lines)


@dataclass(frozen=True)
class RecoveryReport:
    """What `recover` did."""

    mcap_path: Path
    """The (now finalized) MCAP file."""
    metadata_path: Path
    """The metadata.yaml written."""
    rewritten: bool
    """True if the file had no footer and was rewritten; False if only metadata.yaml was (re)written."""
    message_count: int
    """Messages in the recovered bag."""
    dropped_bytes: int
    """Bytes after the last complete record (the torn tail), 0 when nothing was cut off."""
    message_counts: dict[str, int] = field(default_factory=dict)
    """Messages per topic."""


# ---------------------------------------------------------------------- locating files


def mcap_files(path: str | os.PathLike[str]) -> list[Path]:
    """The MCAP file(s) of a bag directory (as metadata.yaml lists them, else `*.mcap`), or `[path]`.

    Raises:
        BagFormatError: no MCAP file there.
        FileNotFoundError: `path` does not exist.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"bag {str(p)!r} does not exist")
    if p.is_file():
        return [p]
    meta = p / "metadata.yaml"
    if meta.is_file():
        try:
            info = yaml.safe_load(meta.read_text(encoding="utf-8"))["rosbag2_bagfile_information"]
            listed = [p / Path(f).name for f in info["relative_file_paths"]]
            if listed and all(f.is_file() for f in listed):
                return listed
        except (yaml.YAMLError, KeyError, TypeError):
            pass  # a broken metadata.yaml: fall back to the files themselves
    found = sorted(p.glob("*.mcap"), key=_split_index)
    if not found:
        raise BagFormatError(f"bag directory {str(p)!r} holds no .mcap file")
    return found


def _split_index(path: Path) -> tuple[str, int]:
    stem, _, index = path.stem.rpartition("_")
    return (stem, int(index)) if index.isdigit() else (path.stem, 0)


def is_finalized(mcap_path: str | os.PathLike[str]) -> bool:
    """True if the file ends with an MCAP footer and magic (it was closed properly)."""
    with open(mcap_path, "rb") as f:
        size = f.seek(0, io.SEEK_END)
        if size < 2 * len(MAGIC) + _FOOTER_LEN:
            return False
        f.seek(size - len(MAGIC) - _FOOTER_LEN)
        tail = f.read()
    return tail[-len(MAGIC) :] == MAGIC and tail[0] == Opcode.FOOTER


# ---------------------------------------------------------------------- tolerant scan


@dataclass
class _Scan:
    """Outcome of a tolerant scan."""

    good_end: int = 0  # byte offset just past the last complete record
    size: int = 0
    complete: bool = False  # reached DataEnd or Footer: the whole data section was read
    problem: str = ""
    header: Header | None = None


def _scan(f: BinaryIO, scan: _Scan) -> Iterator[McapRecord]:
    """Records of the data section (chunks broken up), stopping quietly at a torn or corrupt tail."""
    scan.size = f.seek(0, io.SEEK_END)
    f.seek(0)
    if scan.size == 0:  # the recorder died before its header reached the disk: an empty bag
        scan.problem = "empty file"
        return
    if f.read(len(MAGIC)) != MAGIC:
        raise BagFormatError(f"{getattr(f, 'name', 'file')!r} is not an MCAP file (bad magic)")
    scan.good_end = len(MAGIC)
    while True:
        head = f.read(9)
        if len(head) < 9:
            scan.problem = "" if not head else "torn record header"
            return
        opcode, length = struct.unpack("<BQ", head)
        if length > scan.size - scan.good_end - 9:
            scan.problem = f"record (opcode 0x{opcode:02x}) cut off"
            return
        body = f.read(length)
        reader = _READERS.get(opcode)
        records: list[McapRecord] = []
        if reader is not None:
            try:
                record = reader(ReadDataStream(io.BytesIO(body)), length)
                records = breakup_chunk(record, validate_crc=True) if isinstance(record, Chunk) else [record]
            except Exception as err:  # a corrupt record ends the readable part, whatever the decoder says
                scan.problem = f"corrupt record (opcode 0x{opcode:02x}): {err}"
                return
        scan.good_end += 9 + length
        for record in records:
            if isinstance(record, Header):
                scan.header = record
            elif isinstance(record, DataEnd | Footer):  # a summary section may follow: nothing new in it
                scan.complete = True
                return
            else:
                yield record


def _scan_messages(
    f: BinaryIO, scan: _Scan, topics: set[str] | None = None
) -> Iterator[tuple[Schema | None, Channel, Message]]:
    schemas: dict[int, Schema] = {}
    channels: dict[int, Channel] = {}
    for record in _scan(f, scan):
        if isinstance(record, Schema):
            schemas[record.id] = record
        elif isinstance(record, Channel):
            channels[record.id] = record
        elif isinstance(record, Message):
            channel = channels.get(record.channel_id)
            if channel is None or (topics is not None and channel.topic not in topics):
                continue
            yield schemas.get(channel.schema_id), channel, record


# ---------------------------------------------------------------------- public readers


def velocity_command(message: Any) -> tuple[float, float, float]:
    """(vx m/s, vy m/s, yaw rate rad/s) of a decoded /cmd_vel: a Twist, or a TwistStamped (a lockstep script)."""
    twist = getattr(message, "twist", message)
    return (twist.linear.x, twist.linear.y, twist.angular.z)


def read_bag(
    path: str | os.PathLike[str], *, decode: bool = True, topics: Iterable[str] | None = None
) -> Iterator[BagMessage]:
    """Iterate over the messages of a bag (directory or .mcap file), finalized or cut short.

    Args:
        path: bag directory or MCAP file.
        decode: decode CDR with mcap_ros2 (from the schemas in the file); False yields raw bytes.
        topics: only these topics (None: all).

    Yields:
        `BagMessage(topic, type_name, log_time_ns, message, publish_time_ns)`: in log-time order for a finalized file,
        in file order for one without a footer.
    """
    wanted = None if topics is None else set(topics)
    factory = DecoderFactory()
    for mcap_path in mcap_files(path):
        with mcap_path.open("rb") as f:
            if is_finalized(mcap_path):
                source = make_reader(f).iter_messages(topics=wanted, log_time_order=True)
            else:
                source = _scan_messages(f, _Scan(), wanted)
            decoders: dict[int, Callable[[bytes], Any]] = {}
            for schema, channel, message in source:
                type_name = schema.name if schema is not None else ""
                payload: Any = message.data
                if decode:
                    decoder = decoders.get(channel.id)
                    if decoder is None:
                        decoder = factory.decoder_for(channel.message_encoding, schema)
                        if decoder is None:
                            raise BagFormatError(
                                f"{mcap_path}: topic {channel.topic} ({type_name or 'no schema'}, "
                                f"{channel.message_encoding}) cannot be decoded; use decode=False"
                            )
                        decoders[channel.id] = decoder
                    payload = decoder(message.data)
                yield BagMessage(channel.topic, type_name, message.log_time, payload, message.publish_time)


def bag_info(path: str | os.PathLike[str]) -> BagInfo:
    """Topics, types, counts and time span of a bag (first MCAP file of a directory).

    Uses the summary of a finalized file; scans the readable part of one without a footer.
    """
    mcap_path = mcap_files(path)[0]
    info = _file_info(mcap_path)
    return dataclasses.replace(info, recorded_count=_recorded_count(mcap_path))


def _recorded_count(mcap_path: Path) -> int | None:
    """message_count of this file in the metadata.yaml beside it, None without one."""
    meta = mcap_path.parent / "metadata.yaml"
    if not meta.is_file():
        return None
    try:
        info = (yaml.safe_load(meta.read_text()) or {}).get("rosbag2_bagfile_information", {})
    except yaml.YAMLError:
        return None
    files = [f for f in info.get("files") or [] if f.get("path") == mcap_path.name]
    return int(files[0].get("message_count", 0)) if files else None


def _file_info(mcap_path: Path) -> BagInfo:
    if is_finalized(mcap_path):
        with mcap_path.open("rb") as f:
            summary = make_reader(f).get_summary()
        if summary is not None and summary.statistics is not None:
            stats = summary.statistics
            counts = dict(stats.channel_message_counts)
            topics = tuple(
                _topic_info(ch, summary.schemas.get(ch.schema_id), counts.get(cid, 0))
                for cid, ch in summary.channels.items()
            )
            n = stats.message_count
            return BagInfo(
                mcap_path,
                True,
                n,
                stats.message_start_time if n else None,
                stats.message_end_time if n else None,
                topics,
            )
    return _scanned_info(mcap_path)


def message_counts(path: str | os.PathLike[str]) -> dict[str, int]:
    """Messages per topic (every topic with a channel, even with 0 messages), finalized or not."""
    return {t.name: t.message_count for t in bag_info(path).topics}


def _topic_info(channel: Channel, schema: Schema | None, count: int) -> TopicInfo:
    return TopicInfo(
        channel.topic,
        schema.name if schema is not None else "",
        count,
        channel.metadata.get("offered_qos_profiles", ""),
        channel.metadata.get("topic_type_hash", ""),
    )


def _scanned_info(mcap_path: Path) -> BagInfo:
    schemas: dict[int, Schema] = {}
    channels: dict[int, Channel] = {}
    counts: dict[int, int] = {}
    start: int | None = None
    end: int | None = None
    scan = _Scan()
    with mcap_path.open("rb") as f:
        for record in _scan(f, scan):
            if isinstance(record, Schema):
                schemas[record.id] = record
            elif isinstance(record, Channel):
                channels.setdefault(record.id, record)
            elif isinstance(record, Message) and record.channel_id in channels:
                counts[record.channel_id] = counts.get(record.channel_id, 0) + 1
                start = record.log_time if start is None else min(start, record.log_time)
                end = record.log_time if end is None else max(end, record.log_time)
    topics = tuple(_topic_info(ch, schemas.get(ch.schema_id), counts.get(cid, 0)) for cid, ch in channels.items())
    return BagInfo(mcap_path, is_finalized(mcap_path), sum(counts.values()), start, end, topics)


# ---------------------------------------------------------------------- recovery


def recover(path: str | os.PathLike[str]) -> RecoveryReport:
    """Make a bag whose recorder died (SIGKILL, power loss) readable by every MCAP / rosbag2 reader.

    A file without a footer is rewritten: every complete record of the readable prefix (schemas,
    channels, messages with their times, metadata records) goes into a new, finalized MCAP file that
    atomically replaces the old one; the torn tail (at most the chunk being written) is dropped. Then
    metadata.yaml is written next to it. A file that is already finalized is left untouched and only
    its metadata.yaml is (re)written — so `recover` is safe to run on any bag, any number of times.

    Args:
        path: the bag directory or its `.mcap` file (metadata.yaml goes in the file's folder).

    Raises:
        BagFormatError: not an MCAP file.
    """
    mcap_path = mcap_files(path)[0]
    rewritten = False
    dropped = 0
    if not is_finalized(mcap_path):
        dropped = _rewrite(mcap_path)
        rewritten = True
    info = bag_info(mcap_path)
    topics = [
        TopicRecord(t.name, t.type_name, t.offered_qos_profiles, t.type_hash, t.message_count) for t in info.topics
    ]
    meta_path = write_metadata(mcap_path.parent, bag_metadata(mcap_path.name, topics, info.start_ns, info.end_ns))
    return RecoveryReport(
        mcap_path,
        meta_path,
        rewritten,
        info.message_count,
        dropped,
        {t.name: t.message_count for t in info.topics},
    )


def _rewrite(mcap_path: Path) -> int:
    """Rewrite the readable prefix of `mcap_path` as a finalized file in place; return bytes dropped."""
    tmp = mcap_path.with_name(f".{mcap_path.name}.recovering")
    scan = _Scan()
    schema_ids: dict[int, int] = {}
    channel_ids: dict[int, int] = {}
    with mcap_path.open("rb") as src, tmp.open("wb") as dst:
        writer = Writer(dst, chunk_size=1024 * 1024, compression=CompressionType.ZSTD)
        records = _scan(src, scan)
        first = next(records, None)  # parses the header too
        header = scan.header or Header(profile="ros2", library="")
        writer.start(profile=header.profile or "ros2", library=header.library or "physai.record recover")
        for record in itertools.chain([first] if first is not None else [], records):
            if isinstance(record, Schema) and record.id not in schema_ids:
                schema_ids[record.id] = writer.register_schema(record.name, record.encoding, record.data)
            elif isinstance(record, Channel) and record.id not in channel_ids:
                channel_ids[record.id] = writer.register_channel(
                    record.topic, record.message_encoding, schema_ids.get(record.schema_id, 0), dict(record.metadata)
                )
            elif isinstance(record, Message) and record.channel_id in channel_ids:
                writer.add_message(
                    channel_ids[record.channel_id], record.log_time, record.data, record.publish_time, record.sequence
                )
            elif isinstance(record, Metadata):
                writer.add_metadata(record.name, dict(record.metadata))
        writer.finish()
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(tmp, mcap_path)
    return scan.size - scan.good_end
