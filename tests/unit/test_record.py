"""physai.record: rosbag2-compatible MCAP bags from CDR bytes, read back by mcap, mcap_ros2 and rosbags.

Messages are real rclpy message objects serialized with rclpy (no node, no DDS); the recorder itself never
imports rclpy. Crash behaviour is tested on real subprocesses (SIGKILL, SIGTERM).
"""

import os
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from mcap.exceptions import EndOfFile
from mcap.reader import make_reader
from mcap.records import Message
from mcap.stream_reader import StreamReader
from mcap_ros2._dynamic import generate_dynamic
from mcap_ros2.decoder import DecoderFactory
from rclpy.serialization import deserialize_message, serialize_message
from rosbags.interfaces import QosDurability, QosReliability
from rosbags.rosbag2 import Reader as RosbagsReader
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Bool

from physai.record import (
    McapRecorder,
    QosProfile,
    RecorderClosedError,
    UnknownMessageTypeError,
    bag_info,
    is_finalized,
    message_counts,
    read_bag,
    recover,
    resolve_definition,
)
from physai.record.bagmeta import DURABILITY, RELIABILITY

pytestmark = pytest.mark.filterwarnings("ignore:module 'sre_:DeprecationWarning")  # lark, inside mcap_ros2

T0 = 1_700_000_000_000_000_000  # ns
N = 40  # messages per topic (Bool: N // 4)
JOINTS = ["left_hip", "left_knee", "right_hip"]
TOPICS = {
    "/joint_states": "sensor_msgs/msg/JointState",
    "/imu/data": "sensor_msgs/msg/Imu",
    "/diagnostics": "diagnostic_msgs/msg/DiagnosticArray",
    "/estop": "std_msgs/msg/Bool",
}
COUNTS = {"/joint_states": N, "/imu/data": N, "/diagnostics": N, "/estop": N // 4}
DESIGN_TYPES = [
    "sensor_msgs/msg/JointState",
    "sensor_msgs/msg/Imu",
    "nav_msgs/msg/Odometry",
    "geometry_msgs/msg/Twist",
    "std_msgs/msg/Bool",
    "rosgraph_msgs/msg/Clock",
    "diagnostic_msgs/msg/DiagnosticArray",
    "sensor_msgs/msg/Image",
    "sensor_msgs/msg/CameraInfo",
]
STORE = get_typestore(Stores.ROS2_JAZZY)


def joint_state(i):
    msg = JointState(name=JOINTS, position=[i + 0.1 * k for k in range(3)], velocity=[-float(i)] * 3, effort=[0.5] * 3)
    msg.header.stamp = Time(sec=i, nanosec=1000 * i)
    msg.header.frame_id = "pelvis"
    return msg


def imu(i):
    msg = Imu()
    msg.header.stamp = Time(sec=i, nanosec=7)
    msg.header.frame_id = "imu_link"
    msg.orientation.w = 1.0
    msg.angular_velocity.z = 0.25 * i
    msg.linear_acceleration.z = 9.81
    msg.orientation_covariance[0] = 0.5
    return msg


def diagnostics(i):
    status = DiagnosticStatus(level=DiagnosticStatus.WARN, name="sim_node: loop", message=f"late {i}")
    status.values = [KeyValue(key="lateness_us", value=str(10 * i))]
    return DiagnosticArray(status=[status])


def write_bag(bag_dir, **kwargs):
    """Interleaved messages on the four topics; returns the recorder (closed)."""
    rec = McapRecorder(bag_dir, **kwargs)
    estop_qos = QosProfile(depth=1, reliability=RELIABILITY["reliable"], durability=DURABILITY["transient_local"])
    rec.add_topic("/estop", TOPICS["/estop"], offered_qos_profiles=[estop_qos])
    for i in range(N):
        t = T0 + i * 2_000_000
        rec.add("/joint_states", TOPICS["/joint_states"], serialize_message(joint_state(i)), t)
        rec.add("/imu/data", TOPICS["/imu/data"], serialize_message(imu(i)), t + 1)
        rec.add("/diagnostics", "diagnostic_msgs/DiagnosticArray", serialize_message(diagnostics(i)), t + 2)
        if i % 4 == 0:
            rec.add("/estop", TOPICS["/estop"], serialize_message(Bool(data=i % 8 == 0)), t + 3)
    rec.close()
    return rec


@pytest.fixture(scope="module")
def bag(tmp_path_factory):
    bag_dir = tmp_path_factory.mktemp("bags") / "run1"
    write_bag(bag_dir, chunk_size=4096)
    return bag_dir


# ---------------------------------------------------------------------- message definitions


def test_definition_text_matches_rosbag2_for_its_own_test_case(tmp_path):
    # rosbag2_cpp test_local_message_definition_source.cpp, can_find_msg_deps
    pkg = tmp_path / "rosbag2_test_msgdefs" / "msg"
    pkg.mkdir(parents=True)
    (pkg / "ComplexMsg.msg").write_text("rosbag2_test_msgdefs/BasicMsg b\n")
    (pkg / "BasicMsg.msg").write_text("float32 c\n")
    d = resolve_definition("rosbag2_test_msgdefs/ComplexMsg", search_paths=[tmp_path], fallback=False)
    assert d.type_name == "rosbag2_test_msgdefs/msg/ComplexMsg"
    assert d.encoding == "ros2msg"
    assert d.text == (
        "rosbag2_test_msgdefs/BasicMsg b\n\n" + "=" * 80 + "\nMSG: rosbag2_test_msgdefs/BasicMsg\nfloat32 c\n"
    )


@pytest.mark.parametrize("type_name", DESIGN_TYPES)
def test_definitions_of_design_types_parse_like_the_ros2_jazzy_store(type_name):
    d = resolve_definition(type_name)
    root_msg = Path(d.source)
    assert root_msg.name == type_name.rsplit("/", 1)[1] + ".msg"  # from the installed package, not rosbags
    assert d.text.startswith(root_msg.read_text())  # verbatim, comments included
    assert d.type_hash == STORE.hash_rihs01(type_name)
    # rosbags' .msg parser reads the concatenated text into the same fields as its Jazzy store, deps included
    parsed = get_types_from_msg(d.text, type_name)
    assert type_name in parsed
    for name, (_consts, fields) in parsed.items():
        assert [f[0] for f in fields] == [f[0] for f in STORE.fielddefs[name][1]], name
    # every dependency appears exactly once
    headers = [line for line in d.text.splitlines() if line.startswith("MSG: ")]
    assert len(headers) == len(set(headers)) == len(parsed) - 1
    # mcap_ros2's parser builds a decoder for it
    assert type_name in generate_dynamic(type_name, d.text)


def test_unknown_type_error_names_the_type():
    with pytest.raises(UnknownMessageTypeError, match=r"physai_msgs/msg/NoSuchType"):
        resolve_definition("physai_msgs/msg/NoSuchType")
    with pytest.raises(ValueError, match=r"'JointState' is not a ROS 2 message type name"):
        resolve_definition("JointState")


# ---------------------------------------------------------------------- round trips


def test_mcap_reader_with_mcap_ros2_decoder_round_trips(bag):
    mcap_path = bag / "run1_0.mcap"
    with mcap_path.open("rb") as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        assert reader.get_header().profile == "ros2"
        summary = reader.get_summary()
        assert {s.name: s.encoding for s in summary.schemas.values()} == {t: "ros2msg" for t in TOPICS.values()}
        channels = {c.topic: c for c in summary.channels.values()}
        assert set(channels) == set(TOPICS)
        assert all(c.message_encoding == "cdr" for c in channels.values())
        assert all(set(c.metadata) == {"offered_qos_profiles", "topic_type_hash"} for c in channels.values())
        assert channels["/joint_states"].metadata["offered_qos_profiles"] == ""
        assert channels["/joint_states"].metadata["topic_type_hash"] == STORE.hash_rihs01(TOPICS["/joint_states"])
        stats = summary.statistics
        assert {
            channels_by_id.topic: stats.channel_message_counts[cid] for cid, channels_by_id in summary.channels.items()
        } == COUNTS
        assert stats.chunk_count > 3  # 4 KiB chunks

        seen = {topic: [] for topic in TOPICS}
        for schema, channel, message, decoded in reader.iter_decoded_messages():
            assert schema.name == TOPICS[channel.topic]
            assert message.publish_time == message.log_time
            seen[channel.topic].append((message.log_time, decoded))
    assert {t: len(v) for t, v in seen.items()} == COUNTS
    for i, (log_time, js) in enumerate(seen["/joint_states"]):
        assert log_time == T0 + i * 2_000_000
        assert js.name == JOINTS
        assert list(js.position) == pytest.approx([i, i + 0.1, i + 0.2])
        assert list(js.velocity) == [-float(i)] * 3
        assert (js.header.stamp.sec, js.header.stamp.nanosec, js.header.frame_id) == (i, 1000 * i, "pelvis")
    imu_msg = seen["/imu/data"][9][1]
    assert imu_msg.angular_velocity.z == 2.25 and imu_msg.linear_acceleration.z == 9.81
    assert imu_msg.orientation_covariance[0] == 0.5 and imu_msg.header.frame_id == "imu_link"
    diag = seen["/diagnostics"][7][1]
    assert diag.status[0].name == "sim_node: loop" and diag.status[0].message == "late 7"
    assert (diag.status[0].values[0].key, diag.status[0].values[0].value) == ("lateness_us", "70")
    assert [m.data for _, m in seen["/estop"]] == [i % 8 == 0 for i in range(0, N, 4)]


def test_rosbags_reader_round_trips(bag):
    with RosbagsReader(bag) as reader:
        assert {c.topic: c.msgcount for c in reader.connections} == COUNTS
        assert {c.topic: c.msgtype for c in reader.connections} == TOPICS
        assert reader.message_count == sum(COUNTS.values())
        estop = next(c for c in reader.connections if c.topic == "/estop")
        (qos,) = estop.ext.offered_qos_profiles
        assert (qos.depth, qos.reliability, qos.durability) == (
            1,
            QosReliability.RELIABLE,
            QosDurability.TRANSIENT_LOCAL,
        )
        got = {topic: [] for topic in TOPICS}
        for conn, timestamp, raw in reader.messages():
            got[conn.topic].append((timestamp, STORE.deserialize_cdr(raw, conn.msgtype)))
    assert {t: len(v) for t, v in got.items()} == COUNTS
    for i, (timestamp, js) in enumerate(got["/joint_states"]):
        assert timestamp == T0 + i * 2_000_000
        assert js.name == JOINTS
        np.testing.assert_allclose(js.position, [i, i + 0.1, i + 0.2])
        assert (js.header.stamp.sec, js.header.stamp.nanosec) == (i, 1000 * i)
    assert got["/imu/data"][4][1].angular_velocity.z == 1.0
    assert got["/diagnostics"][3][1].status[0].values[0].value == "30"
    assert [m.data for _, m in got["/estop"]] == [i % 8 == 0 for i in range(0, N, 4)]


def test_read_bag_and_counts_helpers(bag):
    msgs = list(read_bag(bag))
    assert len(msgs) == sum(COUNTS.values())
    assert [m.log_time_ns for m in msgs] == sorted(m.log_time_ns for m in msgs)
    first = msgs[0]
    assert (first.topic, first.type_name, first.log_time_ns) == ("/joint_states", TOPICS["/joint_states"], T0)
    assert list(first.message.position) == pytest.approx([0.0, 0.1, 0.2])
    raw = next(read_bag(bag / "run1_0.mcap", decode=False, topics=["/estop"]))
    assert isinstance(raw.message, bytes) and deserialize_message(raw.message, Bool).data is True
    assert message_counts(bag) == COUNTS
    info = bag_info(bag)
    assert info.finalized and info.message_count == sum(COUNTS.values())
    assert info.duration_s == pytest.approx(((N - 1) * 2_000_000 + 2) / 1e9)


def test_metadata_yaml_is_rosbag2_jazzy_layout(bag):
    meta = yaml.safe_load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert meta["version"] == 8 and meta["storage_identifier"] == "mcap"
    assert meta["relative_file_paths"] == ["run1_0.mcap"]
    assert meta["message_count"] == sum(COUNTS.values())
    assert meta["starting_time"]["nanoseconds_since_epoch"] == T0
    assert meta["duration"]["nanoseconds"] == (N - 1) * 2_000_000 + 2  # last diagnostics - first joint_states
    assert meta["files"] == [
        {
            "path": "run1_0.mcap",
            "starting_time": {"nanoseconds_since_epoch": T0},
            "duration": {"nanoseconds": (N - 1) * 2_000_000 + 2},
            "message_count": sum(COUNTS.values()),
        }
    ]
    topics = {t["topic_metadata"]["name"]: t for t in meta["topics_with_message_count"]}
    assert {name: t["message_count"] for name, t in topics.items()} == COUNTS
    for name, t in topics.items():
        tm = t["topic_metadata"]
        assert (tm["type"], tm["serialization_format"]) == (TOPICS[name], "cdr")
        assert tm["type_description_hash"] == STORE.hash_rihs01(TOPICS[name])
    (estop_qos,) = yaml.safe_load(topics["/estop"]["topic_metadata"]["offered_qos_profiles"])
    assert estop_qos["reliability"] == 1 and estop_qos["durability"] == 1 and estop_qos["depth"] == 1
    assert meta["compression_format"] == "" and meta["compression_mode"] == "" and meta["ros_distro"]


# ---------------------------------------------------------------------- durability


def test_time_based_flush(tmp_path):
    rec = McapRecorder(tmp_path / "slow", flush_interval_s=0.05, compression="none")
    rec.add("/estop", "std_msgs/msg/Bool", serialize_message(Bool(data=True)), T0)
    assert (rec.chunk_count, rec.flushed_message_count) == (0, 0)
    assert not rec.flush_if_due()
    time.sleep(0.06)
    assert rec.flush_if_due() and rec.chunk_count == 1 and rec.flushed_message_count == 1
    rec.add("/estop", "std_msgs/msg/Bool", serialize_message(Bool(data=False)), T0 + 1)
    time.sleep(0.06)
    rec.add("/estop", "std_msgs/msg/Bool", serialize_message(Bool(data=True)), T0 + 2)  # age checked on add
    assert rec.chunk_count == 2 and rec.flushed_message_count == 3
    assert message_counts(rec.bag_dir) == {"/estop": 3}  # readable before close
    rec.close()


def test_torn_tail_is_ignored_by_read_bag_and_dropped_by_recover(tmp_path):
    rec = McapRecorder(tmp_path / "live", chunk_size=1024)
    for i in range(31):
        rec.add("/joint_states", TOPICS["/joint_states"], serialize_message(joint_state(i)), T0 + i)
    flushed = rec.flushed_message_count
    assert 0 < flushed < 31
    torn = tmp_path / "torn"
    torn.mkdir()
    shutil.copy(rec.mcap_path, torn / "torn_0.mcap")  # what a SIGKILL leaves on disk
    rec.close()
    with (torn / "torn_0.mcap").open("ab") as f:  # and a chunk record cut off half-way
        f.write(b"\x06" + (5000).to_bytes(8, "little") + b"\x00" * 100)

    assert not is_finalized(torn / "torn_0.mcap")
    msgs = list(read_bag(torn))
    assert [m.message.header.stamp.sec for m in msgs] == list(range(flushed))
    assert message_counts(torn) == {"/joint_states": flushed}
    report = recover(torn)
    assert report.rewritten and report.dropped_bytes == 109 and report.message_count == flushed
    assert is_finalized(torn / "torn_0.mcap")
    with RosbagsReader(torn) as reader:
        assert [STORE.deserialize_cdr(raw, c.msgtype).header.stamp.sec for c, _, raw in reader.messages()] == list(
            range(flushed)
        )
    again = recover(torn)  # idempotent: a finalized file is left alone
    assert not again.rewritten and again.message_count == flushed


CHILD = textwrap.dedent(
    """
    import sys, time
    from rclpy.serialization import deserialize_message, serialize_message
    from sensor_msgs.msg import JointState
    from physai.record import McapRecorder

    rec = McapRecorder(sys.argv[1], chunk_size=2048)
    if sys.argv[2] == "handlers":
        rec.install_signal_handlers()
    chunks, deadline, i = 0, time.monotonic() + 15, 0
    try:
        while time.monotonic() < deadline:
            msg = JointState(name=["j0", "j1"], position=[float(i), -float(i)], velocity=[0.0] * 2, effort=[0.0] * 2)
            msg.header.stamp.sec = i
            rec.add("/joint_states", "sensor_msgs/msg/JointState", serialize_message(msg), 10**18 + i)
            i += 1
            if rec.chunk_count != chunks:
                chunks = rec.chunk_count
                print(chunks, rec.flushed_message_count, flush=True)
            time.sleep(0.0002)
    finally:
        print("finally", rec.closed, flush=True)
    sys.exit(3)  # not reached unless the test never signals
    """
)


def _run_child(bag_dir, mode, chunks_before_signal, sig):
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(bag_dir), mode], stdout=subprocess.PIPE, text=True, bufsize=1
    )
    flushed = 0
    try:
        for line in proc.stdout:
            chunks, flushed = map(int, line.split())
            if chunks >= chunks_before_signal:
                proc.send_signal(sig)
                break
        rest = proc.stdout.read()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, flushed, rest


def test_sigkill_loses_at_most_the_chunk_in_progress(tmp_path):
    bag_dir = tmp_path / "killed"
    code, flushed, _ = _run_child(bag_dir, "plain", 4, signal.SIGKILL)
    assert code == -signal.SIGKILL
    mcap_path = bag_dir / "killed_0.mcap"
    assert not (bag_dir / "metadata.yaml").exists() and not is_finalized(mcap_path)

    # mcap's own stream reader: every flushed chunk, then EndOfFile where the footer should be (a kill
    # in the middle of a chunk write, rare here, would end it with struct.error instead)
    n_stream = 0
    with mcap_path.open("rb") as f, pytest.raises((EndOfFile, struct.error)):
        for record in StreamReader(f).records:
            n_stream += isinstance(record, Message)
    assert n_stream >= flushed

    # physai.record reads the same without an exception, values intact and in order
    secs = [m.message.header.stamp.sec for m in read_bag(bag_dir)]
    assert len(secs) >= flushed and secs == list(range(len(secs)))
    assert message_counts(bag_dir) == {"/joint_states": len(secs)}

    # rosbags needs metadata.yaml and a footer: recover() provides both
    with pytest.raises(FileNotFoundError):
        RosbagsReader(bag_dir)
    report = recover(bag_dir)
    assert report.rewritten and report.message_count == len(secs)
    with RosbagsReader(bag_dir) as reader:
        assert reader.message_count == len(secs)
        got = [STORE.deserialize_cdr(raw, c.msgtype) for c, _, raw in reader.messages()]
    assert [m.header.stamp.sec for m in got] == secs
    assert list(got[-1].position) == [float(secs[-1]), -float(secs[-1])]


def test_sigterm_with_handlers_finalizes_the_bag(tmp_path):
    bag_dir = tmp_path / "terminated"
    code, flushed, rest = _run_child(bag_dir, "handlers", 2, signal.SIGTERM)
    assert code == 128 + signal.SIGTERM  # SystemExit(143): finally blocks ran
    assert "finally True" in rest
    assert is_finalized(bag_dir / "terminated_0.mcap")
    meta = yaml.safe_load((bag_dir / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    with RosbagsReader(bag_dir) as reader:
        n = sum(1 for _ in reader.messages())
    assert n == meta["message_count"] == bag_info(bag_dir).message_count >= flushed


def test_signal_inside_add_is_handled_after_the_write(tmp_path):
    # Python's own SIGINT handler underneath, whatever an earlier test of this process left installed (the
    # recorder chains to the previous handler, and only the default one raises KeyboardInterrupt)
    outer = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _signal_inside_add(tmp_path)
    finally:
        signal.signal(signal.SIGINT, outer)


def _signal_inside_add(tmp_path):
    before = signal.getsignal(signal.SIGINT)
    rec = McapRecorder(tmp_path / "sig").install_signal_handlers([signal.SIGINT])
    data = serialize_message(Bool(data=True))
    rec.add("/estop", "std_msgs/msg/Bool", data, T0)
    add_message = rec._writer.add_message

    def interrupted(*args, **kwargs):
        signal.raise_signal(signal.SIGINT)  # handler runs now, while add() is half-way
        return add_message(*args, **kwargs)

    rec._writer.add_message = interrupted
    with pytest.raises(KeyboardInterrupt):
        rec.add("/estop", "std_msgs/msg/Bool", data, T0 + 1)
    assert rec.closed and message_counts(rec.bag_dir) == {"/estop": 2}
    assert is_finalized(rec.mcap_path) and (rec.bag_dir / "metadata.yaml").is_file()
    assert signal.getsignal(signal.SIGINT) is before  # restored


def test_an_exception_inside_a_chunk_write_leaves_every_written_message_readable(tmp_path):
    # ci255: a Ctrl-C's KeyboardInterrupt landed inside mcap's chunk write, after the chunk record and before
    # its message indexes; finishing that writer indexed an empty chunk in its place (549 of 1,015 readable)
    rec = McapRecorder(tmp_path / "torn", chunk_size=10**9)
    state = serialize_message(joint_state(1))
    for i in range(40):
        rec.add("/joint_states", TOPICS["/joint_states"], state, T0 + i)
        if i == 19:
            rec.flush()  # a first, complete chunk
    write_out = rec._writer._Writer__flush
    calls = []

    def interrupted():
        write_out()
        calls.append(1)
        if len(calls) == 2:  # the chunk record is in the file; its message indexes come next
            raise KeyboardInterrupt

    rec._writer._Writer__flush = interrupted
    with pytest.raises(KeyboardInterrupt):
        rec.flush()
    with pytest.raises(RecorderClosedError, match="interrupted inside a chunk write"):
        rec.add("/joint_states", TOPICS["/joint_states"], state, T0 + 40)
    rec.close()
    assert is_finalized(rec.mcap_path)
    assert [m.log_time_ns - T0 for m in read_bag(rec.bag_dir, decode=False)] == list(range(40))
    assert rec.flushed_message_count == 40
    with RosbagsReader(rec.bag_dir) as reader:
        assert sum(1 for _ in reader.messages()) == 40


# ---------------------------------------------------------------------- bad input


def test_unknown_type_is_a_clear_error_and_the_bag_stays_usable(tmp_path):
    with McapRecorder(tmp_path / "bad") as rec:
        with pytest.raises(UnknownMessageTypeError, match=r"'physai_msgs/msg/Nope'"):
            rec.add("/x", "physai_msgs/msg/Nope", b"\x00\x01\x00\x00", T0)
        with pytest.raises(ValueError, match=r"not a ROS 2 message type name"):
            rec.add("/x", "Bool", b"\x00\x01\x00\x00", T0)
        rec.add("/estop", "std_msgs/msg/Bool", serialize_message(Bool()), T0)
        with pytest.raises(ValueError, match=r"/estop.*std_msgs/msg/Bool.*sensor_msgs/msg/Imu"):
            rec.add("/estop", "sensor_msgs/msg/Imu", serialize_message(Imu()), T0)
        with pytest.raises(ValueError, match=r"not CDR"):
            rec.add("/estop", "std_msgs/msg/Bool", b"\x01", T0)
        with pytest.raises(ValueError, match=r"expected CDR bytes"):
            rec.add("/estop", "std_msgs/msg/Bool", Bool(), T0)
        with pytest.raises(ValueError, match=r"log_time_ns .* integer nanoseconds"):
            rec.add("/estop", "std_msgs/msg/Bool", serialize_message(Bool()), 1.5)
    assert message_counts(tmp_path / "bad") == {"/estop": 1}


def test_write_after_close_is_a_clear_error(tmp_path):
    rec = McapRecorder(tmp_path / "done")
    rec.add("/estop", "std_msgs/msg/Bool", serialize_message(Bool()), T0)
    assert rec.close() == tmp_path / "done"
    assert rec.close() == tmp_path / "done"  # idempotent
    with pytest.raises(RecorderClosedError, match=r"closed; cannot write to topic '/estop'"):
        rec.add("/estop", "std_msgs/msg/Bool", serialize_message(Bool()), T0 + 1)
    assert message_counts(tmp_path / "done") == {"/estop": 1}


def test_bad_paths_and_arguments(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep me")
    with pytest.raises(FileExistsError, match="not empty"):
        McapRecorder(tmp_path / "full")
    with pytest.raises(ValueError, match="bag \\*directory\\*"):
        McapRecorder(tmp_path / "run.mcap")
    with pytest.raises(ValueError, match="compression"):
        McapRecorder(tmp_path / "c", compression="gzip")
    with pytest.raises(ValueError, match="chunk_size"):
        McapRecorder(tmp_path / "c", chunk_size=0)
    assert not os.path.exists(tmp_path / "c")
