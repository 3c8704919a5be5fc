"""The closed loop through real rclpy nodes over Fast DDS (localhost, a test-only domain): sim_node + policy_node.

Covers: the shipped balance policy keeps the biped up for 20 s in lockstep and in realtime; a SIGKILLed
policy node leads to damping within the command timeout; /estop within one control period; bad commands
rejected or clamped and counted; a policy for another robot refused at start; the recording readable.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from physai.bringup import bringup, params_yaml
from physai.bringup.launcher import launch, localhost_env, start_node, stop_all
from physai.record import diagnostics as status_names
from physai.record import message_counts, read_bag
from physai.record.summary import summarize
from physai.robot import RobotSpec
from tests.ros.rosprobe import BALANCE_POLICY, Probe, guard_statuses

pytestmark = pytest.mark.ros

CONTROL_PERIOD_S = 0.02
TIMEOUT_S = 0.05
LOOP_CPU = str(max(os.sched_getaffinity(0))) if len(os.sched_getaffinity(0)) >= 2 else "none"
"""The loop pinned as loop_cpu:=N does (auto pins only from 3 CPUs): the loop thread alone on the last CPU."""


@pytest.mark.parametrize("mode", ["lockstep", "realtime"])
def test_shipped_policy_keeps_biped_up_for_20s(mode, tmp_path):
    bag = tmp_path / "bag"
    args = {
        "policy": str(BALANCE_POLICY),
        "mode": mode,
        "max_sim_time_s": "20",
        "push_velocity_m_s": "0.3",
        "record": str(bag),
    }
    result = launch("sim", args, duration_s=60, run_dir=tmp_path / "run")
    assert result.exit_code == 0, result.failed
    summary = summarize(bag)
    assert summary.sim_seconds >= 19.9
    assert not summary.fell, summary.table()
    assert summary.max_tilt_rad < 0.5
    sim = summary.diagnostics[status_names.SIM_SAFETY]
    assert float(sim[status_names.SIM_TIME_S]) >= 19.9  # sim_node's end-of-run report is in the bag
    assert int(sim["pushes"]) == 6  # at 3, 6, …, 18 s: it was disturbed, and stayed up
    assert sim["rejected_nan"] == "0" and sim["rejected_unknown_joint"] == "0"
    counts = message_counts(bag)
    assert counts["/joint_commands"] >= 0.9 * 20 / CONTROL_PERIOD_S
    if mode == "lockstep":  # one command per control period, one state per command (+ the start-up state)
        assert abs(counts["/joint_states"] - counts["/joint_commands"]) <= 5


@pytest.fixture
def running_loop(tmp_path):
    """sim_node (realtime) + policy_node as processes; yields {name: Popen} once the guard is active."""
    args = {"policy": str(BALANCE_POLICY), "mode": "realtime", "timeout_s": str(TIMEOUT_S), "loop_cpu": LOOP_CPU}
    nodes = bringup("sim", args)
    params = tmp_path / "params.yaml"
    params.write_text(params_yaml(nodes))
    env = localhost_env()
    procs = [(node, start_node(node, params, tmp_path, env)) for node in nodes]
    yield {node.name: proc for node, proc in procs}
    stop_all(procs)


def wait_mode(probe: Probe, mode: str, timeout_s: float, after: float = 0.0) -> tuple[float, dict[str, str]]:
    def found():
        return next(((t, v) for t, v in guard_statuses(probe) if v["mode"] == mode and t >= after), None)

    return probe.wait_for(f"guard mode {mode}", found, timeout_s)


def test_killed_policy_node_means_damping_within_the_timeout(running_loop, probe):
    from diagnostic_msgs.msg import DiagnosticArray
    from sensor_msgs.msg import JointState

    from physai.ros import qos

    probe.subscribe(DiagnosticArray, "/diagnostics", qos.RELIABLE)
    probe.subscribe(JointState, "/joint_states", qos.SENSOR)
    wait_mode(probe, "active", timeout_s=30)
    running_loop["policy_node"].send_signal(signal.SIGKILL)
    killed = time.monotonic()
    received, values = wait_mode(probe, "timeout", timeout_s=5, after=killed)
    age_s = float(values["last_command_age_s"])  # sim time from the last accepted command to damping
    wall_s = received - killed
    print(f"damping {age_s * 1000:.1f} ms (sim time) after the last command; seen {wall_s * 1000:.1f} ms after SIGKILL")
    assert TIMEOUT_S <= age_s <= TIMEOUT_S + 0.004  # the guard's own clock: timeout + ≤ 2 physics steps
    assert wall_s <= TIMEOUT_S + CONTROL_PERIOD_S + 0.05  # end to end, DDS included
    time.sleep(0.5)
    assert running_loop["sim_node"].poll() is None, "sim_node must keep running"
    states = probe.received("/joint_states")
    assert states and states[-1][0] > killed + 0.4  # still publishing
    assert int(values["timeout"]) >= 1


def _thread_cpus(pid: int) -> dict[str, set[int]]:
    """{thread name (tid): allowed CPUs} of a running process, from /proc."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        status = dict(line.split(":\t", 1) for line in (task / "status").read_text().splitlines() if ":\t" in line)
        cpus = set()
        for part in status["Cpus_allowed_list"].strip().split(","):
            lo, _, hi = part.partition("-")
            cpus.update(range(int(lo), int(hi or lo) + 1))
        out[f"{status['Name'].strip()} ({task.name})"] = cpus
    return out


@pytest.mark.skipif(LOOP_CPU == "none", reason="a CPU of its own needs 2 or more CPUs")
def test_the_sim_loop_has_a_cpu_of_its_own(running_loop, probe):
    from diagnostic_msgs.msg import DiagnosticArray

    from physai.ros import qos

    loop_cpu = int(LOOP_CPU)
    probe.subscribe(DiagnosticArray, "/diagnostics", qos.RELIABLE)
    _, values = wait_mode(probe, "active", timeout_s=30)
    assert values["affinity"] == f"cpu {loop_cpu}"
    sim_threads = _thread_cpus(running_loop["sim_node"].pid)
    on_loop_cpu = [name for name, cpus in sim_threads.items() if loop_cpu in cpus]
    assert len(on_loop_cpu) == 1 and sim_threads[on_loop_cpu[0]] == {loop_cpu}, sim_threads  # the loop thread
    for threads in (sim_threads, _thread_cpus(running_loop["policy_node"].pid)):
        assert all(loop_cpu not in cpus for name, cpus in threads.items() if name not in on_loop_cpu), threads


def test_estop_takes_effect_within_one_control_period(running_loop, probe):
    from diagnostic_msgs.msg import DiagnosticArray
    from std_msgs.msg import Bool

    from physai.ros import qos

    probe.subscribe(DiagnosticArray, "/diagnostics", qos.RELIABLE)
    estop = probe.node.create_publisher(Bool, "/estop", qos.LATCHED)
    wait_mode(probe, "active", timeout_s=30)
    probe.wait_for("sim_node to match /estop", lambda: estop.get_subscription_count() > 0, 5)
    sent, sent_unix = time.monotonic(), time.time()
    estop.publish(Bool(data=True))
    _, values = wait_mode(probe, "estop", timeout_s=2, after=sent)
    damped = float(values["mode_since_unix_s"]) - sent_unix  # on sim_node's clock: the step that damped
    print(f"/estop to damping after {damped * 1000:.1f} ms")
    assert 0.0 <= damped <= CONTROL_PERIOD_S
    estop.publish(Bool(data=False))
    time.sleep(0.2)
    assert guard_statuses(probe)[-1][1]["mode"] == "estop"  # released but not re-armed: still damping


def test_realtime_sim_time_starts_once_its_policy_is_subscribed(tmp_path, probe):
    """A policy process slower to start than sim_node finds the robot at sim time 0, not fallen in damping."""
    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import Imu, JointState

    from physai.ros import qos

    nodes = bringup("sim", {"mode": "realtime"})  # no policy node: the probe plays the late policy
    next(n for n in nodes if n.name == "sim_node").parameters["state_subscribers"] = 1  # as with policy:=
    params = tmp_path / "params.yaml"
    params.write_text(params_yaml(nodes))
    procs = [(n, start_node(n, params, tmp_path, localhost_env())) for n in nodes]
    try:
        probe.subscribe(Clock, "/clock", qos.SENSOR)
        probe.wait_for("sim_node's /clock", lambda: probe.node.count_publishers("/clock") > 0, 30)
        time.sleep(1.5)  # the late policy: 1.5 s of wall time in which sim time must not run
        assert probe.received("/clock") == []
        probe.subscribe(JointState, "/joint_states", qos.SENSOR)
        probe.subscribe(Imu, "/imu/data", qos.SENSOR)
        probe.wait_for("/clock after the policy subscribed", lambda: probe.received("/clock"), 10)
        first = probe.received("/clock")[0][1].clock
        assert first.sec + first.nanosec * 1e-9 < 0.1  # from (near) sim time 0: nothing ran ahead
    finally:
        stop_all(procs)


def test_lockstep_first_state_waits_for_the_recorder_of_its_record_topic(tmp_path, probe):
    """A lockstep run can end within a second of wall time: its first state waits for the recorder too, here one
    that records /diagnostics only (ci370, ci380: the bag of `bench ros` held none of sim_node's)."""
    from diagnostic_msgs.msg import DiagnosticArray
    from sensor_msgs.msg import Imu, JointState

    from physai.ros import qos

    args = {
        "mode": "lockstep",
        "policy": str(BALANCE_POLICY),
        "record": str(tmp_path / "bag"),
        "record_topics": "/diagnostics",
    }
    nodes = [n for n in bringup("sim", args) if n.name == "sim_node"]  # the probe plays policy and recorder, late
    assert nodes[0].parameters["record_topic"] == "/diagnostics" and nodes[0].parameters["record_subscribers"] == 1
    params = tmp_path / "params.yaml"
    params.write_text(params_yaml(nodes))
    procs = [(n, start_node(n, params, tmp_path, localhost_env())) for n in nodes]
    try:
        probe.subscribe(JointState, "/joint_states", qos.SENSOR)  # the policy is there ...
        probe.subscribe(Imu, "/imu/data", qos.SENSOR)
        probe.wait_for("sim_node's /joint_states", lambda: probe.node.count_publishers("/joint_states") > 0, 30)
        time.sleep(1.5)  # ... the recorder is not yet
        assert probe.received("/joint_states") == []
        probe.subscribe(DiagnosticArray, "/diagnostics", qos.RELIABLE)
        probe.wait_for("the first state once the recorder subscribed", lambda: probe.received("/joint_states"), 10)
    finally:
        stop_all(procs)


def test_bad_commands_are_rejected_or_clamped_and_counted(tmp_path, probe):
    from diagnostic_msgs.msg import DiagnosticArray
    from sensor_msgs.msg import JointState

    from physai.ros import qos
    from physai.ros.convert import joint_state_msg, stamp_from_ns

    spec = RobotSpec.load("testbed_biped")
    nodes = bringup("sim", {"mode": "realtime"})  # no policy: the test is the commander
    params = tmp_path / "params.yaml"
    params.write_text(params_yaml(nodes))
    procs = [(n, start_node(n, params, tmp_path, localhost_env())) for n in nodes]
    try:
        probe.subscribe(DiagnosticArray, "/diagnostics", qos.RELIABLE)
        probe.subscribe(JointState, "/sim_node/applied", qos.RELIABLE)
        pub = probe.node.create_publisher(JointState, "/joint_commands", qos.COMMAND)
        probe.wait_for("sim_node", lambda: pub.get_subscription_count() > 0 and guard_statuses(probe), 30)
        n, names, zeros = spec.n_joints, spec.joint_names, np.zeros(spec.n_joints)
        stamp = stamp_from_ns(0)
        bad = [
            joint_state_msg(names, np.full(n, np.nan), zeros, zeros, stamp),
            joint_state_msg(names, spec.default_pose, zeros, np.full(n, np.inf), stamp),
            joint_state_msg([*names[:-1], "left_toe"], spec.default_pose, zeros, zeros, stamp),
            joint_state_msg(names, spec.default_pose[:5], [], [], stamp),
            joint_state_msg(names, spec.upper + 3.0, np.full(n, 100.0), np.full(n, -1e4), stamp),
        ]
        counters = [  # the guard's counter each one raises, and to what
            ("rejected_nan", 1),
            ("rejected_nan", 2),
            ("rejected_unknown_joint", 1),
            ("rejected_length_mismatch", 1),
            ("clamped_position", 1),
        ]

        def latest() -> dict:
            return guard_statuses(probe)[-1][1] if guard_statuses(probe) else {}

        for msg, (key, count) in zip(bad, counters, strict=True):  # one at a time: /joint_commands keeps the last
            pub.publish(msg)
            probe.wait_for(
                f"{key} counted {count}", lambda key=key, count=count: int(latest().get(key, 0)) >= count, 20
            )
        values = latest()
        assert int(values["rejected_nan"]) == 2
        assert int(values["clamped_velocity"]) >= 1 and int(values["clamped_torque"]) >= 1
        assert procs[-1][1].poll() is None, "sim_node must keep running"
        applied = [m for _, m in probe.received("/sim_node/applied")]
        assert applied, "the applied command is published"
        for msg in applied:  # nothing unclamped reached the simulator
            assert np.all(np.isfinite(msg.position)) and np.all(np.isfinite(msg.effort))
            assert np.all(np.asarray(msg.position) <= spec.upper + 1e-9)
            assert np.all(np.abs(msg.velocity) <= spec.velocity_limit + 1e-9)
            assert np.all(np.abs(msg.effort) <= spec.effort_limit + 1e-9)
    finally:
        stop_all(procs)


def test_policy_for_another_robot_is_refused_at_start(tmp_path):
    nodes = [
        n for n in bringup("sim", {"policy": str(BALANCE_POLICY), "robot": "unitree_g1"}) if n.name == "policy_node"
    ]
    params = tmp_path / "params.yaml"
    params.write_text(params_yaml(nodes))
    cmd = [sys.executable, "-m", "physai.ros.policy_node", "--ros-args", "--params-file", str(params)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=localhost_env())
    assert proc.returncode == 1
    assert "refusing to start" in proc.stderr
    assert "testbed_biped" in proc.stderr and "unitree_g1" in proc.stderr


def test_recording_is_readable_by_mcap_and_rosbags_and_survives_sigkill(tmp_path):
    from mcap.stream_reader import StreamReader
    from rosbags.rosbag2 import Reader

    bag = tmp_path / "bag"
    args = {"policy": str(BALANCE_POLICY), "mode": "lockstep", "max_sim_time_s": "3", "record": str(bag)}
    assert launch("sim", args, duration_s=60, run_dir=tmp_path / "run").exit_code == 0
    counts = message_counts(bag)
    with Reader(bag) as reader:  # rosbags validates metadata.yaml and reads the mcap
        by_topic = {c.topic: c.msgcount for c in reader.connections}
    assert by_topic == counts and counts["/joint_states"] >= 150
    mcap_file = next(bag.glob("*.mcap"))
    with open(mcap_file, "rb") as f:
        records = sum(1 for r in StreamReader(f).records if type(r).__name__ == "Message")
    assert records == sum(counts.values())

    # A recorder killed with SIGKILL mid-run: everything up to its last flushed chunk stays readable.
    killed_bag = tmp_path / "killed"
    nodes = bringup("sim", {"policy": str(BALANCE_POLICY), "mode": "realtime", "record": str(killed_bag)})
    params = tmp_path / "params2.yaml"
    params.write_text(params_yaml(nodes))
    procs = [(n, start_node(n, params, tmp_path, localhost_env())) for n in nodes]

    def flushed() -> int:  # /joint_states in the chunks on disk so far (the file is still being written)
        return sum(1 for _ in read_bag(killed_bag, topics=["/joint_states"])) if killed_bag.exists() else 0

    try:
        deadline = time.monotonic() + 60
        while (before := flushed()) <= 100 and time.monotonic() < deadline:  # start-up, then 1 s flushes
            time.sleep(0.5)
        procs[0][1].send_signal(signal.SIGKILL)  # the recorder (started first)
        procs[0][1].wait()
    finally:
        stop_all(procs)
    messages = list(read_bag(killed_bag, decode=True, topics=["/joint_states"]))
    assert len(messages) >= before > 100  # nothing flushed before the kill is lost
    assert all(len(m.message.position) == 12 for m in messages)
    assert not (killed_bag / "metadata.yaml").exists()
