"""HIL scenarios, each run inside a private network namespace by tests/hil/test_hil.py.

    unshare --net sh -c '<lo + multicast route>; PHYSAI_IN_NETNS=1 python -m tests.hil.scenarios NAME [ARG]'

Everything a scenario starts (virtual motors, driver, policy, recorder, the bus tap and probe nodes) lives in
that namespace, so the udp_multicast CAN bus and DDS never leave loopback. The scenario prints one JSON line.
"""

from __future__ import annotations

import json
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from physai.bringup import bringup, params_yaml
from physai.bringup.host import softirq_threads_fifo
from physai.bringup.launcher import launch, localhost_env, start_node, stop_all
from physai.drivers import mit, robstride
from physai.drivers.bus import to_joint
from physai.drivers.config import HardwareConfig
from physai.drivers.frame import CanFrame, FrameBatch
from physai.drivers.limits import CodecError
from physai.drivers.link import DATAGRAM_INTERFACE, open_link
from physai.paths import data_root
from physai.record import diagnostics as status_names
from physai.record import read_bag
from physai.record.summary import summarize
from physai.robot import RobotSpec
from physai.robot.command import JointCommand

POLICY = str(data_root() / "policies" / "biped_balance" / "policy.onnx")
WALK_POLICY = str(data_root() / "policies" / "biped_walk" / "policy.onnx")
WALK_PATH = str(data_root() / "sim_envs" / "commands" / "walk_path.yaml")
CHANNEL = "239.74.163.2"
SPEC = RobotSpec.load("testbed_biped")
HARDWARE = HardwareConfig.load(data_root() / "robot_descriptions" / "testbed_biped" / "hardware.yaml", SPEC)


class BusTap:
    """Receives every frame on every virtual CAN bus of the launch (like candump on each) in a thread."""

    def __init__(self) -> None:
        self.link = open_link(HARDWARE, interface=DATAGRAM_INTERFACE, channel=CHANNEL)
        self.batches: list[FrameBatch] = []  # as received; frames are built once, after the run
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while self.running:
            # drain every 20 ms (the 2 MiB socket buffer holds seconds of frames), not on each datagram: this
            # thread runs at normal priority beside the FIFO loops, and ~1,000 wake-ups a second cost them CPU
            time.sleep(0.02)
            batch = self.link.receive_batch()
            if len(batch):
                self.batches.append(batch)

    def stop(self) -> None:
        self.running = False
        self.thread.join()
        self.link.close()

    @property
    def frames(self) -> list[tuple[int, CanFrame]]:
        """Every (bus index, frame) seen so far."""
        return FrameBatch.concat(list(self.batches)).frames()

    def exit_frames(self) -> int:
        """Exit-motor-mode (MIT) and stop (Robstride) frames seen."""
        stop = robstride.CommType.STOP
        return sum(
            (not f.is_extended_id and f.data == mit.EXIT_MOTOR_MODE)
            or (f.is_extended_id and f.arbitration_id >> 24 == stop)
            for _, f in self.frames
        )


def command_violations(frames: list[tuple[int, CanFrame]]) -> tuple[int, list[str]]:
    """Decode every host→motor command frame; (commands checked, the ones outside the robot's limits)."""
    buses = HARDWARE.bus_index.tolist()
    mit_ids = {(buses[i], m.can_id): i for i, m in enumerate(HARDWARE.motors) if m.protocol == "mit"}
    rs_ids = {(buses[i], m.can_id): i for i, m in enumerate(HARDWARE.motors) if m.protocol == "robstride"}
    checked, bad = 0, []
    for bus, msg in frames:
        data = bytes(msg.data)
        try:
            if not msg.is_extended_id and (bus, msg.arbitration_id) in mit_ids and len(data) == 8:
                if mit.special_frame_kind(data) is not None:
                    continue
                i = mit_ids[bus, msg.arbitration_id]
                c = mit.unpack_command(data, HARDWARE.motors[i].limits)
                values = (c.position, c.velocity, c.kp, c.kd, c.torque_ff)
            elif msg.is_extended_id and (msg.arbitration_id >> 24) == robstride.CommType.MOTION_CONTROL:
                target = msg.arbitration_id & 0xFF
                if (bus, target) not in rs_ids:
                    continue
                i = rs_ids[bus, target]
                c = robstride.decode_motion_control(msg.arbitration_id, data, HARDWARE.motors[i].limits)
                values = (c.position, c.velocity, c.kp, c.kd, c.torque_ff)
            else:
                continue
        except CodecError as err:
            bad.append(f"undecodable command frame {msg.arbitration_id:#x} {data.hex()}: {err}")
            continue
        motor = np.zeros((5, SPEC.n_joints))
        motor[:, i] = values
        joint = to_joint(HARDWARE, JointCommand(*motor))
        j, step = SPEC.joints[i], 2e-3  # one quantization step of slack (16-bit over ±12.5 rad = 0.4 mrad)
        checks = {
            "q": j.lower - step <= joint.q[i] <= j.upper + step,
            "dq": abs(joint.dq[i]) <= j.velocity + 0.05,
            "tau_ff": abs(joint.tau_ff[i]) <= j.effort + 0.05,
            "kp": 0 <= joint.kp[i] <= 3 * j.kp + 0.5,
            "kd": 0 <= joint.kd[i] <= 3 * j.kd + 0.01,
        }
        checked += 1
        bad += [f"{j.name} {k}={getattr(joint, k)[i]:.4f}" for k, ok in checks.items() if not ok]
    return checked, bad


def diag_timeline(bag: Path) -> tuple[list[tuple[int, dict]], dict]:
    """([(log ns, driver safety values)], the plant's last values) from a recording."""
    statuses, plant = [], {}
    for item in read_bag(bag, topics=["/diagnostics"]):
        for status in item.message.status:
            values = {kv.key: kv.value for kv in status.values}
            if status.name == status_names.DRIVER_SAFETY:
                statuses.append((item.log_time_ns, values))
            elif status.name == status_names.PLANT:
                plant = values
    return statuses, plant


def stand(seconds: str = "20") -> dict:
    """The shipped policy through the CAN path for `seconds` of plant time, pushed, with a bus tap."""
    work = Path(tempfile.mkdtemp(prefix="hil-stand-"))
    tap = BusTap()
    args = {"policy": POLICY, "max_sim_time_s": seconds, "push_velocity_m_s": "0.3", "record": str(work / "bag")}
    result = launch("hil", args, duration_s=float(seconds) * 3 + 30, run_dir=work / "run")
    tap.stop()
    summary = summarize(work / "bag")
    checked, bad = command_violations(tap.frames)
    driver = summary.diagnostics.get(status_names.DRIVER_SAFETY, {})
    modes = [v["mode"] for _, v in diag_timeline(work / "bag")[0] if v["mode"] not in ("waiting", "soft_start")]
    return {
        "exit_code": result.exit_code,
        "failed": result.failed,
        "was_active": bool(modes) and modes[0] == "active",
        "sim_seconds": summary.sim_seconds,
        "fell": summary.fell,
        "max_tilt_rad": summary.max_tilt_rad,
        "frames": len(tap.frames),
        "commands_checked": checked,
        "violations": bad[:20],
        "driver_accepted": int(driver.get("accepted", 0)),
        "pushes": int(summary.diagnostics.get(status_names.PLANT, {}).get("pushes", 0)),
    }


def walk(seconds: str = "16") -> dict:
    """The shipped walking policy walks the scripted path through the CAN path (teleop script on plant time)."""
    work = Path(tempfile.mkdtemp(prefix="hil-walk-"))
    tap = BusTap()
    args = {
        "policy": WALK_POLICY,
        "teleop": f"script:{WALK_PATH}",
        "max_sim_time_s": seconds,
        "record": str(work / "bag"),
    }
    result = launch("hil", args, duration_s=float(seconds) * 3 + 30, run_dir=work / "run")
    tap.stop()
    summary = summarize(work / "bag")
    checked, bad = command_violations(tap.frames)
    return {
        "exit_code": result.exit_code,
        "failed": result.failed,
        "sim_seconds": summary.sim_seconds,
        "fell": summary.fell,
        "max_tilt_rad": summary.max_tilt_rad,
        "lin_vel_error_m_s": summary.walk.lin_vel_error_m_s if summary.walk else None,
        "yaw_rate_error_rad_s": summary.walk.yaw_rate_error_rad_s if summary.walk else None,
        "segments": [
            {"command": list(g.command), "measured": list(g.measured), "duration_s": g.duration_s}
            for g in summary.segments
        ],
        "commands_checked": checked,
        "violations": bad[:20],
    }


def fault(spec: str, start_s: str = "2.0") -> dict:
    """Inject `spec` from plant time `start_s`; when (wall time after the plant reached start_s, on the plant's
    and the driver's own clocks) and how the driver reacted, and whether it kept running."""
    work = Path(tempfile.mkdtemp(prefix="hil-fault-"))
    faults = ",".join(p for p in [spec, f"start_s={start_s}" if "start_s" not in spec else ""] if p)
    args = {
        "policy": POLICY,
        "max_sim_time_s": str(float(start_s) + 2.0),
        "faults": faults,
        "push_velocity_m_s": "0.3",  # pushes at plant time 3 s, 6 s, …: the policy's commands move
        "record": str(work / "bag"),
        "record_topics": "/diagnostics",
    }
    result = launch("hil", args, duration_s=60, run_dir=work / "run")
    statuses, plant = diag_timeline(work / "bag")
    # the clocks of the two loops (wall time): when the plant reached start_s, when the driver's guard changed
    started = float(plant["faults_start_unix_s"]) if plant.get("faults_start_unix_s", "-") != "-" else None
    # the first trip after the fault began and before the plant stopped (start_s + 2 s of plant time, real time)
    trips = [v for _, v in statuses if v["mode"] == "fault"] if started else []
    tripped = next((v for v in trips if started <= float(v["mode_since_unix_s"]) < started + 1.9), None)
    before = [v for _, v in statuses if started and float(v["mode_since_unix_s"]) <= started]
    mode_at_start = max(before, key=lambda v: float(v["mode_since_unix_s"]))["mode"] if before else None
    last = statuses[-1][1] if statuses else {}
    return {
        "exit_code": result.exit_code,
        "failed": result.failed,
        "fault_start_seen": started is not None,
        "mode_at_fault_start": mode_at_start,
        "tripped": tripped is not None,
        "latency_s": float(tripped["mode_since_unix_s"]) - started if tripped else None,
        "reason": tripped["fault_reason"] if tripped else last.get("fault_reason", ""),
        "modes": sorted({v["mode"] for _, v in statuses}),
        "faults_counted": int(last.get("fault", 0)),
    }


def _probe_nodes(extra: dict[str, str]) -> tuple[list, Path]:
    work = Path(tempfile.mkdtemp(prefix="hil-probe-"))
    nodes = bringup("hil", {"policy": POLICY, **extra})
    params = work / "params.yaml"
    params.write_text(params_yaml(nodes))
    procs = [(n, start_node(n, params, work, localhost_env(netns=True))) for n in nodes]
    return procs, work


def _wait_mode(statuses: list, mode: str, after: float, timeout_s: float) -> tuple[float, dict] | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for t, values in list(statuses):
            if values["mode"] == mode and t >= after:
                return t, values
        time.sleep(0.002)
    return None


def _probe():
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.signals import SignalHandlerOptions

    from physai.ros import qos

    rclpy.init(signal_handler_options=SignalHandlerOptions.NO)
    node = rclpy.create_node("hil_probe")
    statuses: list[tuple[float, dict]] = []

    def keep(msg: DiagnosticArray) -> None:
        now = time.monotonic()
        statuses.extend(
            (now, {kv.key: kv.value for kv in status.values})
            for status in msg.status
            if status.name == status_names.DRIVER_SAFETY
        )

    node.create_subscription(DiagnosticArray, "/diagnostics", keep, qos.RELIABLE)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()

    def close() -> None:
        executor.shutdown(timeout_sec=2.0)
        spinner.join(timeout=2.0)
        node.destroy_node()
        rclpy.try_shutdown()

    return node, close, statuses


def kill_policy() -> dict:
    """SIGKILL the policy node once the driver is active: damping within the command timeout, driver alive."""
    _node, close, statuses = _probe()
    procs, _ = _probe_nodes({})
    try:
        active = _wait_mode(statuses, "active", 0.0, 40)
        policy = next(p for n, p in procs if n.name == "policy_node")
        policy.send_signal(signal.SIGKILL)
        killed, killed_unix = time.monotonic(), time.time()
        damped = _wait_mode(statuses, "timeout", killed, 5)
        time.sleep(0.5)
        driver_alive = next(p for n, p in procs if n.name == "driver_node").poll() is None
    finally:
        stop_all(procs)
        close()
    return {
        "was_active": active is not None,
        "latency_s": float(damped[1]["mode_since_unix_s"]) - killed_unix if damped else None,  # driver's clock
        "driver_alive": driver_alive,
    }


def kill_policy_mid_stand() -> dict:
    """SIGKILL the policy node while the robot stands: the driver stays in damping (latched), sends no
    exit-motor-mode frame until the operator stop, and nothing outside the limits reaches the wire."""
    tap = BusTap()
    _node, close, statuses = _probe()
    procs, _ = _probe_nodes({"push_velocity_m_s": "0.0"})
    try:
        active = _wait_mode(statuses, "active", 0.0, 40)
        time.sleep(2.0)  # standing
        policy = next(p for n, p in procs if n.name == "policy_node")
        mode_at_kill = statuses[-1][1]["mode"] if statuses else ""
        policy.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        time.sleep(3.0)
        after = [v for t, v in list(statuses) if t > killed + 0.2]
        modes_after = sorted({v["mode"] for v in after})
        reasons = sorted({v.get("fault_reason", "-") for v in after} - {"-"})  # what a fault says, when one trips
        driver = next(p for n, p in procs if n.name == "driver_node")
        driver_alive = driver.poll() is None
        before_stop = tap.exit_frames()
    finally:
        stop_all(procs)  # the operator stop: SIGINT, reverse start order
        close()
        time.sleep(0.2)
        tap.stop()
    checked, violations = command_violations(tap.frames)
    return {
        "was_active": active is not None,
        "driver_alive": driver_alive,
        "modes_after_kill": modes_after,
        "fault_reasons_after_kill": reasons,
        "mode_at_kill": mode_at_kill,
        "exit_frames_before_stop": before_stop,
        "exit_frames_after_stop": tap.exit_frames(),
        "commands_checked": checked,
        "violations": violations[:20],
    }


def estop() -> dict:
    """/estop while active: damping at the next driver tick; still damping after release without re-arm."""
    from std_msgs.msg import Bool

    from physai.ros import qos

    node, close, statuses = _probe()
    procs, _ = _probe_nodes({})
    publisher = node.create_publisher(Bool, "/estop", qos.LATCHED)
    try:
        active = _wait_mode(statuses, "active", 0.0, 40)
        deadline = time.monotonic() + 5
        while publisher.get_subscription_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        sent, sent_unix = time.monotonic(), time.time()
        publisher.publish(Bool(data=True))
        stopped = _wait_mode(statuses, "estop", sent, 5)
        publisher.publish(Bool(data=False))
        time.sleep(0.3)
        still = statuses[-1][1]["mode"] if statuses else ""
        driver_alive = next(p for n, p in procs if n.name == "driver_node").poll() is None
    finally:
        stop_all(procs)
        close()
    return {
        "was_active": active is not None,
        "latency_s": float(stopped[1]["mode_since_unix_s"]) - sent_unix if stopped else None,  # driver's clock
        "mode_after_release": still,
        "driver_alive": driver_alive,
    }


def bad_commands() -> dict:
    """A commander (this process) sends valid commands at 50 Hz plus NaN, Inf, unknown-joint, wrong-length and
    out-of-range ones; the bus tap checks that nothing outside the limits reaches the wire."""
    from sensor_msgs.msg import JointState

    from physai.ros import qos
    from physai.ros.convert import joint_state_msg, stamp_from_ns

    tap = BusTap()
    node, close, statuses = _probe()
    # this process is the commander: a plain Python loop beside the bus tap, not a real-time node, so the
    # guard's timeout allows its scheduling gaps (a latched timeout would end the scenario before it starts)
    procs, _ = _probe_nodes({"policy": "", "timeout_s": "0.2"})
    pub = node.create_publisher(JointState, "/joint_commands", qos.COMMAND)
    n, names, zeros, stamp = SPEC.n_joints, SPEC.joint_names, np.zeros(SPEC.n_joints), stamp_from_ns(0)
    good = joint_state_msg(names, SPEC.default_pose, zeros, zeros, stamp)
    bad = [
        joint_state_msg(names, np.full(n, np.nan), zeros, zeros, stamp),
        joint_state_msg(names, SPEC.default_pose, zeros, np.full(n, np.inf), stamp),
        joint_state_msg([*names[:-1], "left_toe"], SPEC.default_pose, zeros, zeros, stamp),
        joint_state_msg(names, SPEC.default_pose[:5], [], [], stamp),
        joint_state_msg(names, SPEC.upper + 3.0, np.full(n, 100.0), np.full(n, -1e4), stamp),
    ]
    try:
        deadline = time.monotonic() + 40
        active = None
        while active is None and time.monotonic() < deadline:
            pub.publish(good)
            time.sleep(0.02)
            active = next((v for _, v in statuses if v["mode"] == "active"), None)
        for _ in range(3):
            for msg in bad:
                pub.publish(msg)
                time.sleep(0.02)
                pub.publish(good)
                time.sleep(0.02)
        time.sleep(0.6)  # the next periodic /diagnostics
        last = statuses[-1][1] if statuses else {}
        driver_alive = next(p for n_, p in procs if n_.name == "driver_node").poll() is None
    finally:
        stop_all(procs)
        close()
        tap.stop()
    checked, violations = command_violations(tap.frames)
    keys = (
        "rejected_nan",
        "rejected_unknown_joint",
        "rejected_length_mismatch",
        "clamped_position",
        "clamped_velocity",
        "clamped_torque",
    )
    return {
        "was_active": active is not None,
        "counts": {k: int(last.get(k, 0)) for k in keys},
        "driver_alive": driver_alive,
        "commands_checked": checked,
        "violations": violations[:20],
    }


SCENARIOS = {
    "stand": stand,
    "walk": walk,
    "fault": fault,
    "kill_policy": kill_policy,
    "kill_policy_mid_stand": kill_policy_mid_stand,
    "estop": estop,
    "bad_commands": bad_commands,
}

if __name__ == "__main__":
    with softirq_threads_fifo():  # as physai launch does for a real-time set: the probes start nodes themselves
        outcome = SCENARIOS[sys.argv[1]](*sys.argv[2:])
    print("RESULT " + json.dumps(outcome))
