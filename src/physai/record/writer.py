"""McapRecorder: serialized ROS 2 messages into a rosbag2 (MCAP) bag directory, crash-tolerant.

The recorder takes what a raw rclpy subscription hands over — CDR bytes — with the topic, the type name
and the receive time, so it runs (and is tested) without rclpy; `physai.ros` feeds it from
`node.create_subscription(msg_type, topic, cb, qos, raw=True)`.

Output, as `ros2 bag record -s mcap -o NAME` (Jazzy) lays it out::

    NAME/NAME_0.mcap     profile "ros2"; one schema per type (complete .msg text, "ros2msg"),
                         one channel per topic ("cdr", metadata offered_qos_profiles + topic_type_hash)
    NAME/metadata.yaml   rosbag2 version 8, written by close()

Durability: messages are grouped in chunks (zstd by default). A chunk is written and handed to the OS
(`file.flush()`, plus `os.fsync` with `fsync=True`) once it holds `chunk_size` bytes or its first
message is `flush_interval_s` old. A process killed with SIGKILL therefore loses at most the chunk in
progress; the file it leaves has every earlier chunk but no summary/footer and no metadata.yaml —
`physai.record.read_bag` reads it as is, and `physai.record.recover` turns it into a complete bag.
The time limit is checked when messages arrive; a caller whose topics can fall silent calls
`flush_if_due()` from a timer (e.g. a 1 Hz ROS timer).

Threads and signals: calls are serialized by a lock. `install_signal_handlers()` finalizes the bag on
SIGINT/SIGTERM; a signal that lands while the main thread is inside `add()` is handled as that call
returns, so the file is never finalized half-way through a write. Any other handler's exception (the
KeyboardInterrupt of Python's or rclpy's SIGINT handling) can land inside the mcap writer and leave its
chunk index torn; the recorder then takes no more messages, and `close()` rebuilds the file from the
records on disk (`physai.record.recover`) in place of finishing the torn index: what is lost is at most
the chunk that was open, never what an index already points to (ci255 read 549 of 1,015 messages).
"""

from __future__ import annotations

import contextlib
import operator
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from mcap.writer import CompressionType, Writer

from physai import __version__
from physai.record.bagmeta import (
    QosProfile,
    TopicRecord,
    bag_metadata,
    dump_metadata,
    offered_qos_yaml,
    write_metadata,
)
from physai.record.msgdefs import MessageDefinition, normalize_type_name, resolve_definition
from physai.record.reader import recover

DEFAULT_CHUNK_SIZE = 256 * 1024
"""Bytes of (uncompressed) message records per chunk."""
DEFAULT_FLUSH_INTERVAL_S = 1.0
"""Longest a message waits in memory before its chunk is written."""
_MESSAGE_RECORD_OVERHEAD = 31  # opcode 1 + length 8 + channel 2 + sequence 4 + log_time 8 + publish_time 8
_COMPRESSION = {"zstd": CompressionType.ZSTD, "lz4": CompressionType.LZ4, "none": CompressionType.NONE}
_SignalHandler = Callable[[int, FrameType | None], Any] | int | None


class RecorderClosedError(RuntimeError):
    """The recorder was closed (explicitly or by a signal); no more messages can be written."""


@dataclass
class _Channel:
    id: int
    topic: str
    definition: MessageDefinition
    qos: str
    count: int = 0


class McapRecorder:
    """Write serialized ROS 2 messages into a rosbag2 MCAP bag directory.

    Example::

        with McapRecorder("out/run1") as rec:   # creates out/run1/run1_0.mcap
            rec.add("/joint_states", "sensor_msgs/msg/JointState", cdr_bytes, time.time_ns())
        # out/run1/metadata.yaml now exists
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
        compression: str = "zstd",
        fsync: bool = False,
        search_paths: Sequence[str | os.PathLike[str]] = (),
    ) -> None:
        """Create the bag directory and start its MCAP file.

        Args:
            path: the bag directory to create (a new or empty folder); the MCAP file inside is
                `<name>_0.mcap`, as rosbag2 names it.
            chunk_size: write a chunk once its message records reach this many bytes (> 0).
            flush_interval_s: write a chunk once its oldest message is this old, in seconds (> 0).
            compression: chunk compression, "zstd", "lz4" or "none".
            fsync: also `os.fsync` every chunk (survives power loss, not just a killed process).
            search_paths: extra share folders for `.msg` lookup (see `physai.record.msgdefs`).

        Raises:
            ValueError: a bad argument (the message names it).
            FileExistsError: `path` exists and is not an empty directory.
        """
        bag_dir = Path(path)
        if bag_dir.suffix == ".mcap":
            raise ValueError(
                f"path {str(bag_dir)!r} names an .mcap file; McapRecorder writes a rosbag2 bag *directory* "
                f"(give {str(bag_dir.with_suffix(''))!r} to get {bag_dir.with_suffix('').name}_0.mcap inside it)"
            )
        if not (isinstance(chunk_size, int) and chunk_size > 0):
            raise ValueError(f"chunk_size is {chunk_size!r}; expected a positive number of bytes")
        if not flush_interval_s > 0:
            raise ValueError(f"flush_interval_s is {flush_interval_s!r}; expected seconds > 0")
        if compression not in _COMPRESSION:
            raise ValueError(f"compression is {compression!r}; expected one of {sorted(_COMPRESSION)}")
        if bag_dir.exists() and (not bag_dir.is_dir() or any(bag_dir.iterdir())):
            raise FileExistsError(f"bag directory {str(bag_dir)!r} already exists and is not empty; not overwriting")
        bag_dir.mkdir(parents=True, exist_ok=True)

        self._bag_dir = bag_dir
        self._mcap_path = bag_dir / f"{bag_dir.name}_0.mcap"
        self._chunk_size = chunk_size
        self._flush_interval_s = float(flush_interval_s)
        self._fsync = fsync
        self._search_paths = tuple(search_paths)

        self._file = self._mcap_path.open("xb")
        self._writer = Writer(
            self._file,
            chunk_size=2**62,  # chunks are cut here (size and age), not by the mcap writer
            compression=_COMPRESSION[compression],
            enable_crcs=True,
        )
        self._writer.start(profile="ros2", library=f"physai.record {__version__}")
        self._file.flush()

        self._lock = threading.Lock()
        self._channels: dict[str, _Channel] = {}
        self._given_types: dict[str, str] = {}  # topic -> type string as last given (fast path)
        self._schema_ids: dict[str, int] = {}
        self._closed = False
        self._torn = False  # an exception interrupted the mcap writer: its chunk index cannot be trusted
        self._start_ns: int | None = None
        self._end_ns: int | None = None
        self._message_count = 0
        self._flushed_count = 0
        self._chunk_count = 0
        self._chunk_bytes = 0
        self._chunk_opened_at = 0.0
        self._prev_handlers: dict[int, _SignalHandler] = {}
        self._main_busy = False
        self._pending_signal: tuple[int, FrameType | None] | None = None

    # ------------------------------------------------------------------ properties

    @property
    def bag_dir(self) -> Path:
        """The bag directory."""
        return self._bag_dir

    @property
    def mcap_path(self) -> Path:
        """The MCAP file inside the bag directory."""
        return self._mcap_path

    @property
    def closed(self) -> bool:
        """True once `close()` ran (also after a signal finalized the bag)."""
        return self._closed

    @property
    def message_count(self) -> int:
        """Messages accepted by `add()` so far."""
        return self._message_count

    @property
    def flushed_message_count(self) -> int:
        """Messages in chunks already handed to the OS (what a SIGKILL cannot take away)."""
        return self._flushed_count

    @property
    def chunk_count(self) -> int:
        """Chunks written so far."""
        return self._chunk_count

    @property
    def message_counts(self) -> dict[str, int]:
        """Messages per topic so far."""
        return {topic: ch.count for topic, ch in self._channels.items()}

    # ------------------------------------------------------------------ writing

    def add_topic(self, topic: str, type_name: str, *, offered_qos_profiles: str | Sequence[QosProfile] = "") -> None:
        """Declare a topic before its first message (optional; `add` declares topics it has not seen).

        Args:
            topic: topic name, e.g. "/joint_states".
            type_name: ROS 2 type, e.g. "sensor_msgs/msg/JointState".
            offered_qos_profiles: the publishers' QoS, as profiles or as the rosbag2 YAML string.

        Raises:
            UnknownMessageTypeError: the type's definition cannot be found.
            ValueError: the topic is already recorded with another type, or a bad name.
            RecorderClosedError: the recorder is closed.
        """
        qos = offered_qos_profiles if isinstance(offered_qos_profiles, str) else offered_qos_yaml(offered_qos_profiles)
        with self._guard():
            self._check_open(topic)
            self._channel(topic, type_name, qos)

    def add(
        self,
        topic: str,
        type_name: str,
        cdr: bytes | bytearray | memoryview,
        log_time_ns: int,
        *,
        publish_time_ns: int | None = None,
    ) -> None:
        """Append one serialized message.

        Args:
            topic: topic name, e.g. "/joint_states".
            type_name: ROS 2 type, e.g. "sensor_msgs/msg/JointState" ("pkg/Type" is accepted too).
            cdr: the CDR-serialized message including its 4-byte encapsulation header (what rclpy's
                `serialize_message` or a `raw=True` subscription returns).
            log_time_ns: receive time, ns since the epoch (or since the sim clock's zero).
            publish_time_ns: publish time in ns; defaults to `log_time_ns`, as rosbag2 does.

        Raises:
            UnknownMessageTypeError: the type's definition cannot be found.
            ValueError: bad data or time, or the topic is already recorded with another type.
            RecorderClosedError: the recorder is closed.
        """
        with self._guard():
            self._check_open(topic)
            channel = self._channels.get(topic)
            if channel is None or self._given_types.get(topic) != type_name:
                channel = self._channel(topic, type_name, "")
            if not isinstance(cdr, bytes):
                if not isinstance(cdr, bytearray | memoryview):
                    raise ValueError(
                        f"message on {topic} is a {type(cdr).__name__}; expected CDR bytes "
                        "(rclpy.serialization.serialize_message or a raw=True subscription)"
                    )
                cdr = bytes(cdr)
            if len(cdr) < 4 or cdr[0] != 0:
                raise ValueError(
                    f"message on {topic} ({len(cdr)} bytes, starts {cdr[:4].hex() or 'empty'}) is not CDR: "
                    "expected a 4-byte encapsulation header 00 0x .. .."
                )
            log_time = _time_ns(log_time_ns, "log_time_ns", topic)
            publish_time = log_time if publish_time_ns is None else _time_ns(publish_time_ns, "publish_time_ns", topic)

            now = time.monotonic()
            if self._chunk_bytes == 0:
                self._chunk_opened_at = now
            with self._writing():
                self._writer.add_message(channel.id, log_time, cdr, publish_time, 0)
            channel.count += 1
            self._message_count += 1
            self._start_ns = log_time if self._start_ns is None else min(self._start_ns, log_time)
            self._end_ns = log_time if self._end_ns is None else max(self._end_ns, log_time)
            self._chunk_bytes += len(cdr) + _MESSAGE_RECORD_OVERHEAD
            if self._chunk_bytes >= self._chunk_size or now - self._chunk_opened_at >= self._flush_interval_s:
                self._write_chunk()

    def flush(self) -> None:
        """Write the chunk in progress now (no-op when it is empty or the recorder is closed)."""
        with self._guard():
            if not self._closed:
                self._write_chunk()

    def flush_if_due(self) -> bool:
        """Write the chunk in progress if its oldest message is `flush_interval_s` old; True if written."""
        with self._guard():
            if self._closed or not self._chunk_bytes:
                return False
            if time.monotonic() - self._chunk_opened_at < self._flush_interval_s:
                return False
            self._write_chunk()
            return True

    def close(self) -> Path:
        """Finalize the MCAP file (last chunk, summary, footer), write metadata.yaml; idempotent.

        Also restores the signal handlers `install_signal_handlers` replaced (when called from the main
        thread). Returns the bag directory.
        """
        with self._guard():
            if self._closed:
                return self._bag_dir
            self._closed = True
            try:
                if not self._torn:
                    with self._writing():
                        self._writer.flush()
                        metadata = self._metadata()
                        self._writer.add_metadata(
                            "rosbag2",
                            {"serialized_metadata": dump_metadata(metadata["rosbag2_bagfile_information"])},
                        )
                        self._writer.finish()
                self._file.flush()
                os.fsync(self._file.fileno())
            finally:
                self._file.close()
                self._restore_signal_handlers()
            if self._torn:  # every complete chunk on disk, in a new file with its own index
                self._flushed_count = recover(self._bag_dir).message_count
            else:
                self._flushed_count = self._message_count
                write_metadata(self._bag_dir, metadata)
        return self._bag_dir

    def __enter__(self) -> McapRecorder:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ signals

    def install_signal_handlers(
        self, signals: Sequence[signal.Signals] = (signal.SIGINT, signal.SIGTERM)
    ) -> McapRecorder:
        """Finalize the bag when one of `signals` arrives, then behave as the previous handler would.

        After `close()`, a previous Python handler is called; the default action becomes
        `KeyboardInterrupt` for SIGINT and `SystemExit(128 + signum)` otherwise (so `finally` blocks and
        atexit hooks still run; exit status 130 / 143); an ignored signal stays ignored. `close()` puts
        the previous handlers back. Must be called from the main thread. Returns self.

        Under rclpy this is not needed: `rclpy.init()` turns SIGINT/SIGTERM into a shutdown that ends
        `spin()`, so call `close()` in a `finally` after it (or use the recorder as a context manager).
        Installing these *after* `rclpy.init()` would replace rclpy's handlers (and a Python handler only
        runs once the executor wakes up); installed *before*, rclpy chains to them.
        """
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("install_signal_handlers() must be called from the main thread")
        for sig in signals:
            previous = signal.signal(sig, self._on_signal)
            self._prev_handlers.setdefault(int(sig), previous)
        return self

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._main_busy:  # the main thread is inside add()/close(): finish that call first
            self._pending_signal = (signum, frame)
            return
        self._finalize_for_signal(signum, frame)

    def _finalize_for_signal(self, signum: int, frame: FrameType | None) -> None:
        previous = self._prev_handlers.get(signum, signal.SIG_DFL)
        try:
            self.close()
        finally:
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_IGN:
                pass
            elif signum == signal.SIGINT:
                raise KeyboardInterrupt
            else:
                raise SystemExit(128 + signum)

    def _restore_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, previous in self._prev_handlers.items():
            if signal.getsignal(sig) == self._on_signal:
                signal.signal(sig, signal.SIG_DFL if previous is None else previous)
        self._prev_handlers.clear()

    # ------------------------------------------------------------------ internals

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Serialize calls; defer a signal that interrupts the main thread inside a call to its end."""
        in_main = threading.current_thread() is threading.main_thread()
        if in_main:
            self._main_busy = True
        try:
            with self._lock:
                yield
        finally:
            if in_main:
                self._main_busy = False
                if self._pending_signal is not None:
                    signum, frame = self._pending_signal
                    self._pending_signal = None
                    self._finalize_for_signal(signum, frame)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Mark the writer torn when an exception (a signal's KeyboardInterrupt) interrupts it mid-record."""
        try:
            yield
        except BaseException:
            self._torn = True
            raise

    def _check_open(self, topic: str) -> None:
        if self._torn and not self._closed:
            raise RecorderClosedError(
                f"recorder for {str(self._bag_dir)!r} was interrupted inside a chunk write; "
                f"close() rebuilds the bag from what is on disk (topic {topic!r} not written)"
            )
        if self._closed:
            raise RecorderClosedError(f"recorder for {str(self._bag_dir)!r} is closed; cannot write to topic {topic!r}")
        if not isinstance(topic, str) or not topic:
            raise ValueError(f"topic is {topic!r}; expected a non-empty topic name such as '/joint_states'")

    def _channel(self, topic: str, type_name: str, qos: str) -> _Channel:
        """The channel of `topic`, registered (with its schema) on first use."""
        canonical = normalize_type_name(type_name)
        channel = self._channels.get(topic)
        if channel is not None:
            if channel.definition.type_name != canonical:
                raise ValueError(
                    f"topic {topic!r} is recorded as {channel.definition.type_name}; got a message of type "
                    f"{canonical} (one type per topic)"
                )
            self._given_types[topic] = type_name
            return channel
        definition = resolve_definition(canonical, search_paths=self._search_paths)
        schema_id = self._schema_ids.get(canonical)
        if schema_id is None:
            schema_id = self._writer.register_schema(
                name=canonical, encoding=definition.encoding, data=definition.text.encode("utf-8")
            )
            self._schema_ids[canonical] = schema_id
        channel_id = self._writer.register_channel(
            topic=topic,
            message_encoding="cdr",
            schema_id=schema_id,
            metadata={"offered_qos_profiles": qos, "topic_type_hash": definition.type_hash},
        )
        channel = _Channel(channel_id, topic, definition, qos)
        self._channels[topic] = channel
        self._given_types[topic] = type_name
        return channel

    def _write_chunk(self) -> None:
        if not self._chunk_bytes:
            return
        with self._writing():
            self._writer.flush()  # finalizes the chunk, writes it and its message indexes, flushes the file
        if self._fsync:
            os.fsync(self._file.fileno())
        self._chunk_count += 1
        self._flushed_count = self._message_count
        self._chunk_bytes = 0

    def _metadata(self) -> dict[str, Any]:
        topics = [
            TopicRecord(ch.topic, ch.definition.type_name, ch.qos, ch.definition.type_hash, ch.count)
            for ch in self._channels.values()
        ]
        return bag_metadata(self._mcap_path.name, topics, self._start_ns, self._end_ns)


def _time_ns(value: int, name: str, topic: str) -> int:
    try:
        t = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} for {topic} is {value!r}; expected integer nanoseconds") from None
    if not 0 <= t < 2**64:
        raise ValueError(f"{name} for {topic} is {t}; expected nanoseconds in [0, 2**64)")
    return t
