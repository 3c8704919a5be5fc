"""teleop_node over real rclpy/Fast DDS: keyboard keys typed into a pty, Joy messages, and a script on /cmd_vel."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from physai.bringup.launcher import localhost_env

pytestmark = pytest.mark.ros


def start_teleop(*params: str, stdin: int | None = subprocess.DEVNULL) -> subprocess.Popen:
    args = [a for p in params for a in ("-p", p)]
    return subprocess.Popen(
        [sys.executable, "-m", "physai.ros.teleop_node", "--ros-args", *args],
        env=localhost_env(),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def stop(proc: subprocess.Popen, interrupt: bool = True) -> str:
    if interrupt and proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out.decode(errors="replace")


def commands(probe) -> list[tuple[float, float, float]]:
    return [(m.linear.x, m.linear.y, m.angular.z) for _, m in probe.received("/cmd_vel")]


def latest_is(probe, expected) -> bool:
    got = commands(probe)
    return bool(got) and np.allclose(got[-1], expected)


@pytest.fixture
def cmd_vel(probe):
    from geometry_msgs.msg import Twist

    from physai.ros import qos

    probe.subscribe(Twist, "/cmd_vel", qos.RELIABLE)
    return probe


def test_keyboard_in_a_pty_drives_cmd_vel(cmd_vel):
    master, slave = pty.openpty()
    proc = start_teleop("source:=keyboard", "speed_m_s:=0.4", "turn_rad_s:=0.8", stdin=slave)
    os.close(slave)
    try:
        cmd_vel.wait_for("the repeated stop command", lambda: latest_is(cmd_vel, (0, 0, 0)), 60)
        for key, expected in ((b"i", (0.4, 0, 0)), (b"J", (0, 0.4, 0)), (b"l", (0, 0, -0.8)), (b"k", (0, 0, 0))):
            os.write(master, key)
            cmd_vel.wait_for(f"key {key!r} → {expected}", lambda e=expected: latest_is(cmd_vel, e), 10)
        os.write(master, b"q")  # speeds ×1.1 keep the stop
        os.write(master, b"i")
        cmd_vel.wait_for("key i at speed 0.44", lambda: latest_is(cmd_vel, (0.44, 0, 0)), 10)
        os.write(master, b"\x04")  # Ctrl-D: a zero command, then the node quits by itself
        assert proc.wait(timeout=20) == 0
        assert latest_is(cmd_vel, (0, 0, 0))
    finally:
        out = stop(proc)
        os.close(master)
    assert "u    i    o" in out  # the key map was printed on the terminal


def test_keyboard_without_a_terminal_is_refused():
    proc = start_teleop("source:=keyboard")
    out = stop(proc, interrupt=False)
    assert proc.returncode == 1 and "needs a terminal" in out


def test_joy_with_deadman(cmd_vel):
    from sensor_msgs.msg import Joy

    from physai.ros import qos

    pub = cmd_vel.node.create_publisher(Joy, "/joy", qos.SENSOR)
    proc = start_teleop("source:=joy", "deadman_button:=4")
    try:
        cmd_vel.wait_for("teleop_node on /joy", lambda: pub.get_subscription_count() > 0, 60)

        def send(axes, held):
            msg = Joy()
            msg.axes = [float(a) for a in axes]
            msg.buttons = [0, 0, 0, 0, int(held)]
            pub.publish(msg)

        for _ in range(5):
            send([0, 1.0, 0, 0], held=False)  # stick pushed, deadman released: nothing
            time.sleep(0.02)
        time.sleep(0.3)
        assert commands(cmd_vel) == []
        deadline = time.monotonic() + 10
        while not latest_is(cmd_vel, (0.5, -0.3, 0.5)) and time.monotonic() < deadline:
            send([-1.0, 1.0, 0, 0.5], held=True)
            time.sleep(0.02)
        assert latest_is(cmd_vel, (0.5, -0.3, 0.5))
        send([-1.0, 1.0, 0, 0.5], held=False)
        cmd_vel.wait_for("one zero on release", lambda: latest_is(cmd_vel, (0, 0, 0)), 5)
        count = len(commands(cmd_vel))
        for _ in range(5):
            send([0, 1.0, 0, 0], held=False)
            time.sleep(0.02)
        time.sleep(0.3)
        assert len(commands(cmd_vel)) == count  # released: no more commands
    finally:
        stop(proc)


def test_script_timeline_in_order(cmd_vel, tmp_path):
    script = tmp_path / "path.yaml"
    script.write_text("- {t: 0.0, vx: 0.3}\n- {t: 0.6, yaw_rate: 0.5}\n- {t: 1.2, vy: -0.2}\n- {t: 1.8}\n")
    proc = start_teleop("source:=script", f"script:={script}", "rate_hz:=50.0")
    try:
        cmd_vel.wait_for(
            "the end of the script", lambda: latest_is(cmd_vel, (0, 0, 0)) and len(commands(cmd_vel)) > 80, 60
        )
    finally:
        stop(proc)
    got = [c for c in commands(cmd_vel)]
    segments = [tuple(np.round(got[0], 3))]
    for c in got[1:]:
        if not np.allclose(c, segments[-1]):
            segments.append(tuple(np.round(c, 3)))
    assert segments[:4] == [(0.3, 0.0, 0.0), (0.0, 0.0, 0.5), (0.0, -0.2, 0.0), (0.0, 0.0, 0.0)]
    per_segment = [sum(np.allclose(c, s) for c in got) for s in segments[1:3]]
    assert all(12 <= n <= 45 for n in per_segment), per_segment  # 0.6 s each at 50 Hz (30), a loaded machine fewer


def test_script_missing_file_is_refused(tmp_path):
    proc = start_teleop("source:=script", f"script:={tmp_path / 'none.yaml'}")
    out = stop(proc, interrupt=False)
    assert proc.returncode == 1 and "does not exist" in out


def test_a_stamped_script_on_sim_time_answers_each_clock_with_that_times_command(probe, tmp_path):
    from geometry_msgs.msg import TwistStamped
    from rosgraph_msgs.msg import Clock

    from physai.ros import qos

    script = tmp_path / "path.yaml"
    script.write_text("- {t: 0.0}\n- {t: 0.5, vx: 0.3}\n- {t: 1.0, yaw_rate: -0.4}\n")
    probe.subscribe(TwistStamped, "/cmd_vel", qos.RELIABLE)
    clock = probe.node.create_publisher(Clock, "/clock", 10)
    proc = start_teleop("source:=script", f"script:={script}", "use_sim_time:=true", "stamped:=true")
    sent_ns = [0, 480_000_000, 500_000_000, 990_000_000, 1_000_000_000, 7_000_000_000]  # sim time, not wall time
    try:
        probe.wait_for("the teleop on /clock", lambda: clock.get_subscription_count() > 0, 60)
        for stamp_ns in sent_ns:  # each /clock until its command is in (the writer appears with the first)
            msg = Clock()
            msg.clock.sec, msg.clock.nanosec = divmod(stamp_ns, 1_000_000_000)

            def answered(stamp_ns: int = stamp_ns, msg: Clock = msg) -> bool:
                clock.publish(msg)
                time.sleep(0.02)
                return any(stamp_of(m) == stamp_ns for _, m in probe.received("/cmd_vel"))

            probe.wait_for(f"the command for {stamp_ns} ns", answered, 20)
    finally:
        stop(proc)
    by_stamp = {
        stamp_of(m): (m.twist.linear.x, m.twist.linear.y, m.twist.angular.z) for _, m in probe.received("/cmd_vel")
    }
    assert sorted(by_stamp) == sent_ns  # one per /clock, stamped with it: no wall-time commands in between
    assert [by_stamp[t] for t in sent_ns] == [(0.0, 0.0, 0.0)] * 2 + [(0.3, 0.0, 0.0)] * 2 + [(0.0, 0.0, -0.4)] * 2


def stamp_of(msg) -> int:
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
