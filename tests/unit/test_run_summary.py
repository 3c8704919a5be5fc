"""Run summaries of a recorded bag: the guard's mode as the run's clock stopped, a mode reached only after, host
stalls."""

from __future__ import annotations

import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from nav_msgs.msg import Odometry
from rclpy.serialization import serialize_message

from physai.record import McapRecorder
from physai.record import diagnostics as status_names
from physai.record.summary import summarize

pytestmark = pytest.mark.filterwarnings("ignore:module .sre_:DeprecationWarning")  # lark, inside mcap_ros2


def _guard(mode: str, stalls: int = 0) -> bytes:
    status = DiagnosticStatus(name=status_names.DRIVER_SAFETY, message=f"guard {mode}")
    status.values = [KeyValue(key=status_names.MODE, value=mode), KeyValue(key="accepted", value="10")]
    status.values += [
        KeyValue(key=status_names.HOST_STALLS, value=str(stalls)),
        KeyValue(key=status_names.LONGEST_STALL_MS, value="218.0" if stalls else "0.0"),
    ]
    return serialize_message(DiagnosticArray(status=[status]))


def _odom(t: float) -> bytes:
    msg = Odometry()
    msg.header.stamp.sec, msg.header.stamp.nanosec = int(t), round((t % 1) * 1e9)
    msg.pose.pose.position.z, msg.pose.pose.orientation.w = 0.48, 1.0
    return serialize_message(msg)


@pytest.mark.parametrize("last_mode", ["fault", "active"])
def test_a_mode_reached_after_the_clock_stopped_is_said_apart(tmp_path, last_mode):
    recorder = McapRecorder(tmp_path / "bag")
    ns = 1_000_000_000
    recorder.add("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray", _guard("active"), ns)
    for i in range(11):
        recorder.add("/odom", "nav_msgs/msg/Odometry", _odom(i * 0.1), ns + i * 100_000_000)
    recorder.add("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray", _guard(last_mode), 3 * ns)  # plant gone
    recorder.close()
    summary = summarize(tmp_path / "bag")
    assert summary.guard[status_names.MODE] == "active"
    assert summary.mode_after_end == ("fault" if last_mode == "fault" else "")
    line = next(line for line in summary.table().splitlines() if line.startswith("safety guard"))
    assert line.endswith("(then fault, once the run's clock had stopped)") == (last_mode == "fault"), line


@pytest.mark.parametrize("stalls", [0, 2])
def test_host_stalls_a_loop_found_are_reported(tmp_path, stalls):
    recorder = McapRecorder(tmp_path / "bag")
    recorder.add("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray", _guard("active", stalls), 1_000_000_000)
    recorder.add("/odom", "nav_msgs/msg/Odometry", _odom(0.1), 1_100_000_000)
    recorder.close()
    summary = summarize(tmp_path / "bag")
    lines = [line for line in summary.table().splitlines() if line.startswith("host stalls")]
    if stalls:
        assert summary.host_stalls == {"driver_node": "2 (longest 218.0 ms)"}
        assert lines == [
            "host stalls         driver_node 2 (longest 218.0 ms): the host did not run; the watchdogs left that time out"
        ]
    else:
        assert summary.host_stalls == {} and lines == []
