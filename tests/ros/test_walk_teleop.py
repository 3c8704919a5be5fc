"""The shipped walking policy driven by teleop_node through ROS 2: script (lockstep), keyboard in a pty, Joy.

Each run records /cmd_vel and /odom; over every stretch of constant command, after its first second, the
robot's mean measured velocity must follow the command's sign and magnitude.
"""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time

import pytest

from physai.bringup.launcher import launch, localhost_env
from physai.record.summary import summarize
from tests.ros.rosprobe import ROOT, assert_follows, statuses

pytestmark = pytest.mark.ros

WALK_POLICY = ROOT / "policies" / "biped_walk" / "policy.onnx"


def test_script_drives_the_walk_in_lockstep(tmp_path):
    script = tmp_path / "path.yaml"
    script.write_text(
        "- {t: 0.0}\n- {t: 1.0, vx: 0.3}\n- {t: 4.0, yaw_rate: 0.8}\n- {t: 7.0, vy: -0.2}\n"
        "- {t: 10.0, vx: -0.2}\n- {t: 12.0}\n"
    )
    args = {
        "policy": str(WALK_POLICY),
        "mode": "lockstep",
        "teleop": f"script:{script}",
        "max_sim_time_s": "14",
        "record": str(tmp_path / "bag"),
    }
    result = launch("sim", args, duration_s=120, run_dir=tmp_path / "run")
    assert result.exit_code == 0, result.failed
    summary = summarize(tmp_path / "bag")
    assert not summary.fell, summary.table()
    held = [g for g in summary.segments if g.duration_s >= 1.5]  # the script's 2–3 s commands (not the first 1 s)
    commands = [g.command for g in held]
    assert commands == [(0.3, 0.0, 0.0), (0.0, 0.0, 0.8), (0.0, -0.2, 0.0), (-0.2, 0.0, 0.0), (0.0, 0.0, 0.0)]
    for segment in held:
        assert_follows(segment.command, segment.measured)


def launch_in_a_pty(tmp_path, seconds: float) -> tuple[subprocess.Popen, int]:
    """`physai launch sim ... teleop:=keyboard` with a pty as its terminal; returns (process, pty master)."""
    master, slave = pty.openpty()
    args = [
        f"policy:={WALK_POLICY}",
        "teleop:=keyboard",
        f"max_sim_time_s:={seconds}",
        f"record:={tmp_path / 'bag'}",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "physai.cli", "launch", "sim", *args],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=localhost_env(),
        cwd=tmp_path,
    )
    os.close(slave)
    return proc, master


def test_keyboard_keys_typed_into_physai_launch_walk_the_robot(tmp_path):
    proc, master = launch_in_a_pty(tmp_path, seconds=14)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "bag").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(4.0)  # the nodes are up and standing
        os.write(master, b"i")  # forward at 0.5 m/s (teleop_twist_keyboard's default speed)
        time.sleep(4.0)
        os.write(master, b"x")  # linear ×0.9 → 0.45 m/s
        time.sleep(3.0)
        os.write(master, b"k")  # stop
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=30)
        os.close(master)
    assert proc.returncode == 0, out.decode(errors="replace")[-3000:]
    summary = summarize(tmp_path / "bag")
    assert not summary.fell, summary.table()
    moving = [g for g in summary.segments if g.command[0] > 0]
    assert [round(g.command[0], 3) for g in moving] == [0.5, 0.45]
    for segment in moving:
        assert_follows(segment.command, segment.measured)


def test_joy_with_the_deadman_held_walks_the_robot(tmp_path, probe):
    import threading

    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import Joy

    from physai.ros import qos

    probe.subscribe(Clock, "/clock", 10)
    pub = probe.node.create_publisher(Joy, "/joy", qos.SENSOR)
    args = {  # realtime, as a joystick is used: lockstep ran 6× faster than the wall-time joystick and the
        # probe's view of /clock (discovery took ~1.5 s of wall time: 9 s of sim time)
        "policy": str(WALK_POLICY),
        "teleop": "joy",
        "max_sim_time_s": "14",
        "record": str(tmp_path / "bag"),
    }
    sent = {"stop": False}

    def joystick() -> None:  # joy_node's 20 Hz, and the operator: the deadman held for 5 s of sim time
        pressed_at = None  # from sim time 2 s, once teleop_node hears /joy (discovery takes ~1 s of wall time)
        while not sent["stop"]:
            clocks = probe.received("/clock")
            sim_s = 0.0 if not clocks else clocks[-1][1].clock.sec + clocks[-1][1].clock.nanosec * 1e-9
            if pressed_at is None and sim_s >= 2.0 and pub.get_subscription_count() > 0:
                pressed_at = sim_s
            msg = Joy()
            msg.axes = [0.0, 0.6, 0.0, 0.0]  # left stick forward: 0.6 × 0.5 m/s
            msg.buttons = [0, 0, 0, 0, int(pressed_at is not None and sim_s < pressed_at + 5.0)]
            pub.publish(msg)
            time.sleep(0.05)

    thread = threading.Thread(target=joystick, daemon=True)
    thread.start()
    try:
        result = launch("sim", args, duration_s=90, run_dir=tmp_path / "run")
    finally:
        sent["stop"] = True
    assert result.exit_code == 0, result.failed
    summary = summarize(tmp_path / "bag")
    assert not summary.fell, summary.table()
    forward = [g for g in summary.segments if g.command[0] > 0]
    assert [round(g.command[0], 3) for g in forward] == [0.3] and forward[0].duration_s > 3.0  # of 5 s held
    assert_follows(forward[0].command, forward[0].measured)
    assert summary.segments[-1].command == (0.0, 0.0, 0.0)  # the release sent one zero command


def test_policy_node_clamps_cmd_vel_to_the_trained_ranges(probe):
    import math

    from diagnostic_msgs.msg import DiagnosticArray
    from geometry_msgs.msg import Twist

    from physai.contract import read_from_onnx
    from physai.record import diagnostics as status_names
    from physai.ros import qos

    ranges = read_from_onnx(WALK_POLICY).command_ranges
    probe.subscribe(DiagnosticArray, "/diagnostics", qos.RELIABLE)
    pub = probe.node.create_publisher(Twist, "/cmd_vel", qos.RELIABLE)
    node = subprocess.Popen(
        [sys.executable, "-m", "physai.ros.policy_node", "--ros-args", "-p", f"policy:={WALK_POLICY}",
         "-p", "diagnostics_period_s:=0.1"],
        env=localhost_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip

    def policy_status() -> dict:
        found = statuses(probe, status_names.POLICY)
        return found[-1] if found else {}

    def send(vx: float, vy: float, yaw: float) -> None:
        msg = Twist()
        msg.linear.x, msg.linear.y, msg.angular.z = vx, vy, yaw
        pub.publish(msg)

    try:
        probe.wait_for("policy_node on /cmd_vel", lambda: pub.get_subscription_count() > 0, 60)
        expected = f"{ranges[0][1]:.3f} {ranges[1][0]:.3f} {0.2:.3f}"
        probe.wait_for(
            "the clamped command", lambda: (send(3.0, -2.0, 0.2), policy_status().get("cmd_vel") == expected)[1], 20
        )
        time.sleep(0.5)  # the last clamped messages are counted and reported
        clamped = int(policy_status()["cmd_vel_clamped"])
        assert clamped >= 1
        send(math.nan, 0.0, 0.0)  # ignored: the last valid command stays
        time.sleep(0.5)  # several status periods
        assert policy_status()["cmd_vel"] == expected
        probe.wait_for(
            "a fresh status",
            lambda: (send(0.1, 0.0, 0.0), policy_status().get("cmd_vel") == "0.100 0.000 0.000")[1],
            20,
        )
        assert int(policy_status()["cmd_vel_clamped"]) == clamped  # in range: not counted
    finally:
        node.terminate()
        out, _ = node.communicate(timeout=20)
    assert b"clamped to" in out  # and said on the console
